using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Hub.Log.Sqlite;

/// <summary>
/// The durable log (<c>"Hub:Log:Kind": "Sqlite"</c>, the default): an embedded SQLite file in WAL mode.
/// </summary>
/// <remarks>
/// <para><b>Group commit.</b> Appends queue for one writer task, which takes everything waiting (up to
/// <c>MaxGroupEvents</c>) into one transaction; each append completes only after that transaction commits, so a 202
/// means the events are on disk. Concurrent publishers share one fsync.</para>
/// <para><b>Reads</b> (<see cref="ReadAsync"/>) are pages from the file. Live subscribers read the node's memory
/// (<see cref="LogTail"/>, the last <c>TailEvents</c> entries), which this store feeds with each commit.</para>
/// <para><b>Retention</b> by count is exact for readers (<see cref="FirstRetained"/> never lets them see more than
/// <c>MaxEvents</c>); rows are deleted, with age-expired ones, by a background task in small transactions so appends
/// never wait long. <b>Dedup</b> ids and idempotency keys are stored with the events, in the same transaction, and
/// reloaded at start. <b>Admission</b>: past <c>MaxPendingEvents</c> accepted but uncommitted, appends are refused with
/// <see cref="LogOverloadedException"/> instead of queueing without bound.</para>
/// </remarks>
public sealed partial class SqliteEventLog : IEventStore
{
    private const int ReadPage = 512;
    private const int TrimChunk = 5_000;
    private static readonly TimeSpan TrimInterval = TimeSpan.FromSeconds(1);

    private readonly EventLogOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _connectionString;       // the writer's: creates the file if it is not there
    private readonly string _readerConnectionString; // readers': never create a file (one deleted under the hub stays gone)
    private readonly SqliteConnection _writer;
    private readonly SqliteStatements _statements;
    private readonly Deduplicator _dedup;
    private List<TopicStats>? _storedTopics; // as loaded, until the node attaches
    private IStoreFeed? _feed;
    private readonly GroupCommitQueue _queue = new(); // the writer's, with the events pending and the positions unsaved
    private readonly WriteHealth _health = new(FailureRetryAfter);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _writerLoop;
    private readonly Task _trimLoop;
    private long _head;      // the file's head as this instance knows it: raised by its writer and by the poll (RaiseHead)
    private long _trimmedTo; // every sequence below this is gone from the file (or never existed)
    private readonly GroupPositions _groups;

    /// <summary>Opens (or creates) the database and starts the writer. Throws <see cref="HubStartupException"/> naming the
    /// path and the setting when the file cannot be opened or is not a usable database.</summary>
    public SqliteEventLog(IOptions<EventLogOptions> options, TimeProvider? time = null, ILogger<SqliteEventLog>? logger = null, string? contentRoot = null)
    {
        _options = options.Value;
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _dedup = new Deduplicator(_options.DedupWindow, _options.MaxDedupEntries, _logger);
        _groups = new GroupPositions(_options.MaxGroupPositions);
        Path = System.IO.Path.GetFullPath(_options.Sqlite.Path, contentRoot ?? Directory.GetCurrentDirectory());
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        _readerConnectionString = new SqliteConnectionStringBuilder(_connectionString) { Mode = SqliteOpenMode.ReadWrite }.ToString();

        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            _writer = new SqliteConnection(_connectionString);
            _writer.Open();
            var migration = SqliteSchema.Apply(_writer, _options.Sqlite.SkipsFsync);
            if (migration.DroppedGroupPositions is { Count: > 0 } dropped)
            {
                Log.GroupPositionsDropped(_logger, dropped.Count, string.Join(", ", dropped));
            }

            Epoch = SqliteSchema.ReadOrCreateEpoch(_writer);
            _statements = new SqliteStatements(_writer);
            Load();
            _identity = FileIdentity.Of(Path) ?? throw new IOException($"'{Path}' is gone right after it was opened");
        }
        catch (HubStartupException)
        {
            _writer?.Dispose();
            throw;
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            _writer?.Dispose();
            throw new HubStartupException(
                $"Hub:Log:Sqlite:Path: cannot use '{Path}' as the event log: {ex.Message} " +
                "(set Hub:Log:Sqlite:Path to a writable file, or Hub:Log:Kind to Memory)", ex);
        }

        _writtenHead = _head;
        _dataVersion = _statements.DataVersion();
        Log.Opened(_logger, Path, _head, _trimmedTo);
        KeepReserve();
        _writerLoop = Task.Run(WriteLoopAsync);
        _trimLoop = Task.Run(TrimLoopAsync);
    }

    /// <summary>How many recent entries its node keeps in memory: <c>Hub:Log:Sqlite:TailEvents</c>, at most <c>MaxEvents</c>.</summary>
    public static int TailCapacity(EventLogOptions options) => Math.Min(options.Sqlite.TailEvents, options.Retention.MaxEvents);

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <inheritdoc />
    /// <remarks>Kept in the file (table <c>meta</c>): a restart keeps it, a new file makes a new one.</remarks>
    public string Epoch { get; }

    /// <summary>The store's head as this instance knows it: the last sequence committed.</summary>
    public long Head => Volatile.Read(ref _head);

    /// <inheritdoc />
    public long FirstRetained => Math.Max(Volatile.Read(ref _trimmedTo), Head - _options.Retention.MaxEvents + 1);

    /// <inheritdoc />
    public StoreSnapshot Attach(IStoreFeed feed)
    {
        ArgumentNullException.ThrowIfNull(feed);
        if (Interlocked.CompareExchange(ref _feed, feed, null) is not null)
        {
            throw new InvalidOperationException("The log's store has one node: it is attached already.");
        }

        // Nothing is appended before the node attaches, so what was loaded is the snapshot at the head.
        var topics = Interlocked.Exchange(ref _storedTopics, null) ?? [];
        _pollLoop = Task.Run(PollLoopAsync);
        return new StoreSnapshot(Head, topics);
    }

    /// <summary>Events accepted and not yet committed.</summary>
    internal long PendingEvents => _queue.PendingEvents;

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

        var count = events.Count;
        var pending = _queue.AddPending(count);
        if (pending > _options.Sqlite.MaxPendingEvents && pending != count)
        {
            _queue.AddPending(-count);
            throw new LogOverloadedException($"{pending - count} events are waiting to be written (Hub:Log:Sqlite:MaxPendingEvents is {_options.Sqlite.MaxPendingEvents})", TimeSpan.FromSeconds(1));
        }

        var append = new PendingAppend(events, idempotencyKey);
        if (!_queue.TryEnqueue(append))
        {
            _queue.AddPending(-count);
            throw _health.Failure is { } failed ? _health.Refusal(failed) : new ObjectDisposedException(nameof(SqliteEventLog));
        }

        // Not cancelled with the request: once queued, the append happens; the caller may stop waiting for it.
        return new ValueTask<IReadOnlyList<AppendedEvent>>(append.Done.Task.WaitAsync(cancellationToken));
    }

    /// <inheritdoc />
    public ValueTask<LogRead> ReadAsync(long after, long upTo, IEventFilter? filter, int maxEvents, int maxBytes, List<LogEntry> into, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(after);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEvents, 1);
        var first = FirstRetained;
        if (after + 1 < first)
        {
            return new ValueTask<LogRead>(new LogRead(after, Truncated: true, first));
        }

        return new ValueTask<LogRead>(ReadFromFile(after, Math.Min(upTo, Head), filter, maxEvents, maxBytes, _options.MaxScanEvents, into, cancellationToken));
    }

    /// <inheritdoc />
    public GroupPosition? GetGroupPosition(GroupKey group) => _groups.Get(group);

    /// <inheritdoc />
    public bool SaveGroupPosition(GroupKey group, GroupPosition position, bool live = true) =>
        _queue.SavePosition(_groups, group, position, live ? null : _time.GetUtcNow());

    /// <summary>Writes what is queued, stops the background tasks and closes the file. A second call does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        _queue.Complete();
        await _writerLoop.ConfigureAwait(false);
        _stopping.Cancel();
        await _trimLoop.ConfigureAwait(false);
        await _pollLoop.ConfigureAwait(false);
        _statements.Dispose();
        _writer.Dispose();
        SqliteConnection.ClearPool(new SqliteConnection(_connectionString));
        SqliteConnection.ClearPool(new SqliteConnection(_readerConnectionString));
        _stopping.Dispose();
    }

    /// <summary>A connection for reading (pooled).</summary>
    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_readerConnectionString);
        connection.Open();
        return connection;
    }

    /// <summary>Reads the head, the retained range, the topics and what dedup must remember.</summary>
    private void Load()
    {
        var now = _time.GetUtcNow();
        using var command = _writer.CreateCommand();
        command.CommandText = "SELECT topic, count, last_sequence FROM topics";
        var topics = new List<TopicStats>();
        var lastOfTopics = 0L;
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                topics.Add(new TopicStats(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2)));
                lastOfTopics = Math.Max(lastOfTopics, reader.GetInt64(2));
            }
        }

        _storedTopics = topics;

        // The head is the larger of the last row and the topics' last sequences: retention may have deleted every row.
        command.CommandText = SqliteStatements.HeadAndFirstSql;
        using (var reader = command.ExecuteReader())
        {
            reader.Read();
            _head = Math.Max(reader.GetInt64(0), lastOfTopics);
            var min = reader.GetInt64(1);
            _trimmedTo = min == 0 ? _head + 1 : min;
        }

        var since = (now - _dedup.Window).ToUnixTimeMilliseconds();
        command.Parameters.Clear();
        command.Parameters.AddWithValue("$since", since);
        command.CommandText = "SELECT topic, id, sequence, time FROM dedup WHERE time >= $since ORDER BY time";
        using (var reader = command.ExecuteReader())
        {
            var row = new StoredRow(reader, "dedup", Path, 0, 1);
            while (reader.Read())
            {
                _dedup.RememberId(row.Text(0), row.Text(1), row.Integer(2, 1, _head), row.Time(3));
            }
        }

        // A group that had members when the hub stopped is gone from now on, until it has members again.
        command.CommandText = "SELECT name, identity, acknowledged, handed, gone FROM group_positions";
        using (var reader = command.ExecuteReader())
        {
            var row = new StoredRow(reader, "group_positions", Path, 0, 1);
            while (reader.Read())
            {
                var acknowledged = row.Integer(2, 0);
                var position = new GroupPosition(acknowledged, row.Integer(3, 0));
                _groups.Load(new GroupKey(row.Text(0), row.Text(1)), position, reader.IsDBNull(4) ? now : row.Time(4));
            }
        }

        // The subject is empty for the anonymous one (a hub that asks for no credentials).
        command.CommandText = "SELECT subject, key, answer, time FROM idempotency WHERE time >= $since ORDER BY time";
        using (var reader = command.ExecuteReader())
        {
            var row = new StoredRow(reader, "idempotency", Path, 0, 1);
            while (reader.Read())
            {
                _dedup.RememberAnswer(new IdempotencyKey(row.Text(0, mayBeEmpty: true), row.Text(1)), ReadAnswer(row, 2), row.Time(3));
            }
        }

        // A file written with a larger Hub:Log:MaxDedupEntries keeps the newest within the bound.
        _dedup.Expire(now);
    }

    /// <summary>A stored idempotency answer: the JSON array of what each event of the batch was answered.</summary>
    private AppendedEvent[] ReadAnswer(StoredRow row, int ordinal)
    {
        AppendedEvent[]? answer;
        try
        {
            answer = JsonSerializer.Deserialize(row.Text(ordinal), SqliteJson.Default.AppendedEventArray);
        }
        catch (JsonException ex)
        {
            throw row.Damaged(ordinal, $"is not JSON of the stored answer ({ex.Message})", ex);
        }

        if (answer is not { Length: > 0 })
        {
            throw row.Damaged(ordinal, "holds no answer (an empty array or null)");
        }

        for (var i = 0; i < answer.Length; i++)
        {
            var (sequence, topic, _, _) = answer[i];
            if (sequence < 1 || sequence > _head || string.IsNullOrEmpty(topic))
            {
                throw row.Damaged(ordinal, string.Create(CultureInfo.InvariantCulture,
                    $"is not a stored answer: event {i} has sequence {sequence} (the log's are 1..{_head}) and topic '{topic}'"));
            }
        }

        return answer;
    }

    /// <summary>
    /// Reads from the file, in pages of at most <see cref="ReadPage"/> rows, up to <paramref name="upTo"/>, examining at
    /// most <paramref name="maxScan"/> rows and checking <paramref name="cancellationToken"/> at each one.
    /// </summary>
    private LogRead ReadFromFile(long after, long upTo, IEventFilter? filter, int maxEvents, int maxBytes, int maxScan, List<LogEntry> into, CancellationToken cancellationToken)
    {
        upTo = Math.Max(upTo, after);
        if (upTo - after > maxScan)
        {
            upTo = after + maxScan;
        }

        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sequence, topic, type, id, key, time, json FROM events WHERE sequence > $after AND sequence <= $upTo ORDER BY sequence LIMIT $page";
        var afterParameter = command.Parameters.Add("$after", SqliteType.Integer);
        command.Parameters.AddWithValue("$upTo", upTo);
        command.Parameters.AddWithValue("$page", ReadPage);

        var page = new LogPage(after, upTo, filter, maxEvents, maxBytes, into);
        while (page.WantsMore)
        {
            afterParameter.Value = page.Position;
            var rows = 0;
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var entry = SqliteStatements.ReadEntry(reader);
                    if (!page.Follows(entry.Sequence))
                    {
                        // Rows below are being trimmed under us: what we hold is good, the rest is gone.
                        return page.Cut(truncated: true, FirstRetained);
                    }

                    rows++;
                    if (page.Take(entry))
                    {
                        break;
                    }
                }
            }

            if (rows == 0)
            {
                // Nothing between the cursor and the tail (trimmed meanwhile): let the caller look again.
                return page.Cut(truncated: after + 1 < FirstRetained, FirstRetained);
            }
        }

        return page.Done(FirstRetained);
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_queue.PendingEvents >= 0, "pending events are never negative");
    }
}
