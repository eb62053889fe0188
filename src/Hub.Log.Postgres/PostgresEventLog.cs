using System.Data;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Hub.Log.Postgres;

/// <summary>
/// The log in PostgreSQL (<c>"Hub:Log:Kind": "Postgres"</c>): any number of hub nodes on one database, each with its own
/// instance of this store, agreeing on one log without talking to each other.
/// </summary>
/// <remarks>
/// <para><b>The store decides.</b> Sequences, dedup ids and <c>Idempotency-Key</c> answers are decided in the database, in
/// one statement per group commit (<c>hub_append</c>, see <see cref="PostgresSchema"/>), under the row lock of a one-row
/// head counter: appenders of every node are serialised by it, so commit order is sequence order and a reader never
/// passes over an event that commits later with a lower sequence, nor waits for any transaction.</para>
/// <para><b>Group commit.</b> Appends queue for one writer task per node, which takes everything waiting (up to
/// <c>Hub:Log:Postgres:MaxGroupEvents</c>) into one call; each append completes once that transaction has committed and
/// the node has been told (<see cref="IStoreFeed.Committed"/>).</para>
/// <para><b>The feed.</b> Each commit says its head on the log's channel, <c>hub_&lt;epoch&gt;</c> (<c>NOTIFY</c>, in its transaction, so
/// only once committed); the node listens on a connection of its own and tells its tail of other nodes' heads
/// (<see cref="IStoreFeed.HeadMoved"/>), which reads what it lacks. A notification is a hint only: the head is also read
/// every <c>Hub:Log:Postgres:PollInterval</c>, and again after every reconnect (LISTEN first, then read), so a lost
/// notification delays a delivery by at most the interval and never loses it.</para>
/// <para><b>Retention</b> (by count and by age, as the SQLite log) and the expiry of group positions run every second on
/// one node at a time (an advisory lock), in small transactions that never take the head lock; <c>hub_retention</c> says
/// where the log starts, and a reader that finds rows gone reports the truncation. Dedup ids and idempotency answers are
/// expired and bounded inside <c>hub_append</c>, under the head lock, so nothing else ever writes them.</para>
/// <para><b>Failures.</b> PostgreSQL unreachable or refusing writes: the log is unwritable, appends are refused with
/// <see cref="LogUnavailableException"/> (503 with Retry-After), readiness fails, and the log recovers by itself once a
/// write succeeds again (the next append, or a probe every second). An error it does not expect (a table dropped under
/// it, a bug) fails it until a restart, loudly. See <c>PostgresEventLog.Health.cs</c>.</para>
/// </remarks>
public sealed partial class PostgresEventLog : IEventStore
{
    private const int ReadPage = 512;

    private readonly EventLogOptions _options;
    private readonly EventLogOptions.PostgresOptions _postgres;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly NpgsqlDataSource _dataSource;
    private readonly GroupCommitQueue _queue = new(); // the writer's, with the events pending and the positions unsaved
    private readonly WriteHealth _health = new(FailureRetryAfter);
    private readonly CancellationTokenSource _stopping = new();
    private readonly GroupPositions _groups;
    private Task _writerLoop = Task.CompletedTask;
    private Task _listenLoop = Task.CompletedTask;
    private Task _trimLoop = Task.CompletedTask;
    private IStoreFeed? _feed;
    private long _head;           // the highest head this instance knows was committed
    private long _firstRetained;  // the highest first-retained this instance knows of
    private readonly string _channel; // where this log's commits are told (LISTEN/NOTIFY)

    /// <summary>
    /// Connects, creates the schema if it is not there (or checks it), and reads the epoch and the group positions. Throws
    /// <see cref="HubStartupException"/> naming <c>Hub:Log:Postgres:ConnectionString</c> when the connection string is
    /// malformed, the database cannot be reached, or it was written by a newer hub.
    /// </summary>
    public PostgresEventLog(IOptions<EventLogOptions> options, TimeProvider? time = null, ILogger<PostgresEventLog>? logger = null)
    {
        _options = options.Value;
        _postgres = _options.Postgres;
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _groups = new GroupPositions(_options.MaxGroupPositions);
        NpgsqlConnectionStringBuilder connection;
        try
        {
            connection = new NpgsqlConnectionStringBuilder(_postgres.ConnectionString);
        }
        catch (ArgumentException ex)
        {
            throw new HubStartupException($"{ConnectionStringKey}: not a valid Npgsql connection string: {ex.Message}", ex);
        }

        if (string.IsNullOrEmpty(connection.ApplicationName))
        {
            connection.ApplicationName = "hub";
        }

        Database = $"{connection.Host}:{connection.Port}/{connection.Database}";
        _dataSource = NpgsqlDataSource.Create(connection.ConnectionString);
        GroupLeases = new PostgresGroupLeases(_dataSource, _postgres, _time);
        try
        {
            using var open = _dataSource.OpenConnection();
            Epoch = PostgresSchema.Apply(open);
            _channel = PostgresSchema.Channel(Epoch);
            LoadGroupPositions(open);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            _dataSource.Dispose();
            throw new HubStartupException(
                $"{ConnectionStringKey}: cannot use the database {Database} as the event log: {ex.Message} " +
                "(set Hub:Log:Postgres:ConnectionString to a reachable database the hub may create tables in)", ex);
        }
    }

    /// <summary>How many recent entries a node keeps in memory: <c>Hub:Log:Postgres:TailEvents</c>, within the retention.</summary>
    public static int TailCapacity(EventLogOptions options) => Math.Min(options.Postgres.TailEvents, options.Retention.MaxEvents);

    /// <summary>The setting that names the database.</summary>
    internal const string ConnectionStringKey = "Hub:Log:Postgres:ConnectionString";

    /// <summary>Which database, for logs and errors: host, port and name (no credentials).</summary>
    public string Database { get; }

    /// <inheritdoc />
    /// <remarks>Kept in the database (<c>hub_meta</c>), made with the schema: every node of one database answers the same.</remarks>
    public string Epoch { get; }

    /// <summary>The highest head this instance knows was committed (its own commits, and other nodes' as it learns them).</summary>
    public long Head => Volatile.Read(ref _head);

    /// <inheritdoc />
    /// <remarks>Retention by count is exact for readers (never more than <c>MaxEvents</c> behind the head this instance
    /// knows); by age, it follows the node that trims (read with the head every poll, or learnt from a read that finds
    /// rows gone).</remarks>
    public long FirstRetained => Math.Max(Volatile.Read(ref _firstRetained), Head - _options.Retention.MaxEvents + 1);

    /// <summary>Events accepted and not yet committed.</summary>
    internal long PendingEvents => _queue.PendingEvents;

    /// <summary>This instance's id, said with its notifications so that it can tell its own from other nodes'.</summary>
    internal string NodeId { get; } = LogEpoch.New()[..16];

    /// <inheritdoc />
    /// <remarks>The head and the topic counters are read in one repeatable-read transaction: an append commits both or
    /// neither, so the counters are exactly those of the events up to the head. Then the writer, the listener and the
    /// retention pass start.</remarks>
    public StoreSnapshot Attach(IStoreFeed feed)
    {
        ArgumentNullException.ThrowIfNull(feed);
        if (Interlocked.CompareExchange(ref _feed, feed, null) is not null)
        {
            throw new InvalidOperationException("This store has one node: it is attached already.");
        }

        StoreSnapshot snapshot;
        try
        {
            using var connection = _dataSource.OpenConnection();
            using var transaction = connection.BeginTransaction(IsolationLevel.RepeatableRead);
            using var command = new NpgsqlCommand(
                "SELECT h.head, r.first_retained FROM hub_head h, hub_retention r; SELECT topic, count, last_sequence FROM hub_topics", connection, transaction);
            using var reader = command.ExecuteReader();
            reader.Read();
            var head = reader.GetInt64(0);
            var first = reader.GetInt64(1);
            reader.NextResult();
            var topics = new List<TopicStats>();
            while (reader.Read())
            {
                topics.Add(new TopicStats(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2)));
            }

            Volatile.Write(ref _head, head);
            Volatile.Write(ref _firstRetained, first);
            snapshot = new StoreSnapshot(head, topics);
        }
        catch (NpgsqlException ex)
        {
            throw new HubStartupException($"{ConnectionStringKey}: cannot read the event log's head from {Database}: {ex.Message}", ex);
        }

        Log.Opened(_logger, Database, snapshot.Head, FirstRetained, NodeId);
        _writerLoop = Task.Run(WriteLoopAsync);
        _listenLoop = Task.Run(ListenLoopAsync);
        _trimLoop = Task.Run(TrimLoopAsync);
        return snapshot;
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<AppendedEvent>> AppendAsync(IReadOnlyList<EventDraft> events, IdempotencyKey? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        if (Volatile.Read(ref _feed) is null)
        {
            throw new InvalidOperationException("The log's store is not attached to a node yet.");
        }

        if (_health.Failure is { } failure)
        {
            throw _health.Refusal(failure);
        }

        foreach (var draft in events)
        {
            CheckText(draft.Topic, "topic");
            CheckText(draft.Type, "type");
            CheckText(draft.Id, "id");
            CheckText(draft.Key, "key");
        }

        if (idempotencyKey is { } idempotency)
        {
            CheckText(idempotency.Subject, "the Idempotency-Key's subject");
            CheckText(idempotency.Key, "Idempotency-Key");
        }

        var count = events.Count;
        var pending = _queue.AddPending(count);
        if (pending > _postgres.MaxPendingEvents && pending != count)
        {
            _queue.AddPending(-count);
            throw new LogOverloadedException($"{pending - count} events are waiting to be written (Hub:Log:Postgres:MaxPendingEvents is {_postgres.MaxPendingEvents})", TimeSpan.FromSeconds(1));
        }

        var append = new PendingAppend(events, idempotencyKey);
        if (!_queue.TryEnqueue(append))
        {
            _queue.AddPending(-count);
            throw _health.Failure is { } failed ? _health.Refusal(failed) : new ObjectDisposedException(nameof(PostgresEventLog));
        }

        // Not cancelled with the request: once queued, the append happens; the caller may stop waiting for it.
        return new ValueTask<IReadOnlyList<AppendedEvent>>(append.Done.Task.WaitAsync(cancellationToken));
    }

    /// <summary>Refuses, alone and before it is queued, a value that would fail its whole group commit (see <see cref="StorableText"/>).</summary>
    private static void CheckText(string? value, string field)
    {
        if (!StorableText.IsStorable(value))
        {
            throw new ArgumentException($"{field} {StorableText.Rule}: PostgreSQL cannot store it as text", nameof(value));
        }
    }

    /// <inheritdoc />
    public GroupPosition? GetGroupPosition(GroupKey group) => _groups.Get(group);

    /// <inheritdoc />
    /// <remarks>In the database (<see cref="PostgresGroupLeases"/>): a group spans the nodes of this log.</remarks>
    public IGroupLeases GroupLeases { get; }

    /// <inheritdoc />
    /// <remarks>Kept in memory at once and written to <c>hub_group_positions</c> by the writer, soon after.</remarks>
    public bool SaveGroupPosition(GroupKey group, GroupPosition position, bool live = true) =>
        _queue.SavePosition(_groups, group, position, live ? null : _time.GetUtcNow());

    /// <summary>Writes what is queued, stops the background tasks and closes the connections.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        _queue.Complete();
        await _writerLoop.ConfigureAwait(false);
        _stopping.Cancel();
        await _listenLoop.ConfigureAwait(false);
        await _trimLoop.ConfigureAwait(false);
        await _dataSource.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <summary>The positions stored; a group that had members when its node stopped counts as gone from now on.</summary>
    private void LoadGroupPositions(NpgsqlConnection connection)
    {
        var now = _time.GetUtcNow();
        using var command = new NpgsqlCommand("SELECT name, identity, acknowledged, handed, gone FROM hub_group_positions", connection);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var position = new GroupPosition(reader.GetInt64(2), reader.GetInt64(3));
            var gone = reader.IsDBNull(4) ? now : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4));
            _groups.Load(new GroupKey(reader.GetString(0), reader.GetString(1)), position, gone);
        }
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_queue.PendingEvents >= 0, "pending events are never negative");
        Debug.Assert(Volatile.Read(ref _head) >= 0 && Volatile.Read(ref _firstRetained) >= 1, "the head is never negative, the log never starts before 1");
    }
}
