using Npgsql;
using NpgsqlTypes;

namespace Hub.Log.Postgres;

public sealed partial class PostgresEventLog
{
    private NpgsqlConnection? _writer;    // the writer's connection, opened on demand and dropped when it fails
    private NpgsqlCommand? _append;       // hub_append, prepared on it
    private static readonly TimeSpan ForgottenWarningInterval = TimeSpan.FromMinutes(1);
    private DateTimeOffset _lastForgottenWarning = DateTimeOffset.MinValue; // the writer's
    private long _forgottenSinceWarning;                                    // the writer's

    /// <summary>
    /// The one writer of this node: takes every append waiting (up to <c>MaxGroupEvents</c>) into one call of
    /// <c>hub_append</c>, and writes the group positions saved meanwhile. An error it does not expect stops it, loudly
    /// (see <see cref="Fail"/>): what it held and everything queued after is refused, never left waiting.
    /// </summary>
    private async Task WriteLoopAsync()
    {
        try
        {
            await _queue.RunAsync(
                _postgres.MaxGroupEvents,
                _health,
                (group, events) => new ValueTask(CommitAsync(group, events)),
                () => new ValueTask(WriteGroupPositionsAsync()),
                () => ValueTask.CompletedTask, // retention runs on its own loop, on any node (see the Trim part)
                Fail).ConfigureAwait(false);
        }
        finally
        {
            await DropWriterAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One group commit: one call, one transaction. Then, committed: the node is told of the new entries (with their
    /// envelopes, composed here from the drafts, so it need not read them back), and only then are the appenders answered.
    /// </summary>
    private async Task CommitAsync(List<PendingAppend> group, int eventCount)
    {
        if (RefuseWhileUnwritable(group, eventCount) is { } refusal)
        {
            Refuse(group, refusal);
            return;
        }

        var answers = new List<AppendedEvent>[group.Count];
        var entries = new List<LogEntry>(eventCount);
        try
        {
            var command = await AppendCommandAsync().ConfigureAwait(false);
            Bind(command, group, eventCount);
            await ReadAnswersAsync(command, group, answers, entries).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            // Nothing of the group was committed (or, if the connection broke after the commit, it is in the log and the
            // next poll brings it to the node; its publishers were told to retry, and a retry with an id is deduplicated).
            // The pool's idle connections are likely as dead as this one (a restarted server): none is handed out again.
            await DropWriterAsync().ConfigureAwait(false);
            _dataSource.Clear();
            Refuse(group, WriteFailed(ex, group.Count, eventCount));
            return;
        }

        if (_health.Trouble is not null)
        {
            Recovered();
        }

        if (entries.Count > 0)
        {
            Advanced(entries[^1].Sequence);
            _feed!.Committed(entries);
        }

        for (var g = 0; g < group.Count; g++)
        {
            if (group[g].Done.TrySetResult(answers[g] ?? []))
            {
                _queue.AddPending(-group[g].Events.Count);
            }
        }

        AssertInvariants();
    }

    /// <summary>The writer's connection and its prepared <c>hub_append</c> call, opened again after a failure.</summary>
    private async Task<NpgsqlCommand> AppendCommandAsync()
    {
        if (_append is { } command)
        {
            return command;
        }

        _writer = await _dataSource.OpenConnectionAsync(_stopping.Token).ConfigureAwait(false);
        command = new NpgsqlCommand(
            "SELECT append_index, sequence, duplicate, topic, id FROM hub_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)", _writer);
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        for (var i = 0; i < 4; i++)
        {
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        }

        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = (long)_options.MaxDedupEntries });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = _channel });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = NodeId });
        await command.PrepareAsync(_stopping.Token).ConfigureAwait(false);
        _append = command;
        return command;
    }

    private async Task DropWriterAsync()
    {
        if (_append is { } command)
        {
            await command.DisposeAsync().ConfigureAwait(false);
            _append = null;
        }

        if (_writer is { } connection)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            _writer = null;
        }
    }

    /// <summary>The group as arrays: per event, then per append.</summary>
    private void Bind(NpgsqlCommand command, List<PendingAppend> group, int eventCount)
    {
        var appendIndex = new int[eventCount];
        var topics = new string[eventCount];
        var types = new string?[eventCount];
        var ids = new string?[eventCount];
        var keys = new string?[eventCount];
        var times = new long[eventCount];
        var bodies = new byte[eventCount][];
        var subjects = new string?[group.Count];
        var idempotencyKeys = new string?[group.Count];
        var e = 0;
        for (var g = 0; g < group.Count; g++)
        {
            var append = group[g];
            subjects[g] = append.IdempotencyKey?.Subject;
            idempotencyKeys[g] = append.IdempotencyKey?.Key;
            foreach (var draft in append.Events)
            {
                appendIndex[e] = g;
                topics[e] = draft.Topic;
                types[e] = draft.Type;
                ids[e] = draft.Id;
                keys[e] = draft.Key;
                times[e] = draft.Time.ToUnixTimeMilliseconds();
                bodies[e] = draft.Body;
                e++;
            }
        }

        var now = _time.GetUtcNow();
        var p = command.Parameters;
        p[0].Value = appendIndex;
        p[1].Value = topics;
        p[2].Value = types;
        p[3].Value = ids;
        p[4].Value = keys;
        p[5].Value = times;
        p[6].Value = bodies;
        p[7].Value = subjects;
        p[8].Value = idempotencyKeys;
        p[9].Value = now.ToUnixTimeMilliseconds();
        p[10].Value = (now - _options.DedupWindow).ToUnixTimeMilliseconds();
    }

    /// <summary>
    /// Reads the answer rows (per append, in order: a replayed append's stored answer with its topics and ids, or one row
    /// per event) into each append's answer, and the new events into <paramref name="entries"/>, in sequence order.
    /// </summary>
    private async Task ReadAnswersAsync(NpgsqlCommand command, List<PendingAppend> group, List<AppendedEvent>[] answers, List<LogEntry> entries)
    {
        await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            var g = reader.GetInt32(0);
            var sequence = reader.GetInt64(1);
            if (g < 0)
            {
                ForgottenEarly(sequence);
                continue;
            }

            var duplicate = reader.GetBoolean(2);
            var answer = answers[g] ??= new List<AppendedEvent>(group[g].Events.Count);
            if (!reader.IsDBNull(3))
            {
                // Replayed from its Idempotency-Key: the first batch's answer, as it was given.
                answer.Add(new AppendedEvent(sequence, reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4), duplicate));
                continue;
            }

            var draft = group[g].Events[answer.Count];
            answer.Add(new AppendedEvent(sequence, draft.Topic, draft.Id, duplicate));
            if (!duplicate)
            {
                entries.Add(new LogEntry(sequence, draft.Topic, draft.Type, draft.Id, draft.Key, draft.Time, EnvelopeJson.Compose(sequence, draft.Body)));
            }
        }
    }

    /// <summary>The bound made the store forget ids or answers still within their window: a warning, at most once a minute.</summary>
    private void ForgottenEarly(long count)
    {
        _forgottenSinceWarning += count;
        var now = _time.GetUtcNow();
        if (now - _lastForgottenWarning >= ForgottenWarningInterval)
        {
            Log.ForgottenEarly(_logger, _forgottenSinceWarning, _options.MaxDedupEntries, _options.DedupWindow);
            _lastForgottenWarning = now;
            _forgottenSinceWarning = 0;
        }
    }

    /// <summary>Writes the group positions saved since the last time, in one transaction.</summary>
    private async Task WriteGroupPositionsAsync()
    {
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(_stopping.Token).ConfigureAwait(false);
            await using var batch = new NpgsqlBatch(connection);
            foreach (var saved in _queue.TakeUnsavedPositions())
            {
                var command = new NpgsqlBatchCommand(
                    "INSERT INTO hub_group_positions (name, identity, acknowledged, handed, gone) VALUES ($1, $2, $3, $4, $5) " +
                    "ON CONFLICT (name, identity) DO UPDATE SET acknowledged = excluded.acknowledged, handed = excluded.handed, gone = excluded.gone");
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = saved.Group.Name });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = saved.Group.Identity });
                command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = saved.Position.Acknowledged });
                command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = saved.Position.Handed });
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = saved.Gone is { } since ? since.ToUnixTimeMilliseconds() : DBNull.Value });
                batch.BatchCommands.Add(command);
            }

            if (batch.BatchCommands.Count > 0)
            {
                // One batch is one implicit transaction: all of them or none.
                await batch.ExecuteNonQueryAsync(_stopping.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            // A position not written only makes the group read acknowledged events again after a restart.
            Log.GroupPositionsFailed(_logger, ex);
        }
    }
}
