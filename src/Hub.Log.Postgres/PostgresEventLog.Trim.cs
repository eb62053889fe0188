using Npgsql;

namespace Hub.Log.Postgres;

public sealed partial class PostgresEventLog
{
    /// <summary>The advisory lock one node holds while it runs retention ("HubTrim" as ASCII).</summary>
    private const long TrimLock = 0x48_75_62_54_72_69_6D;

    /// <summary>How many rows one retention statement deletes at most (events, dedup rows, answers): a pass stays short.</summary>
    private const int TrimChunk = 5_000;

    private static readonly TimeSpan TrimInterval = TimeSpan.FromSeconds(1);

    /// <summary>How often the bound on the topics' rows is enforced (it needs a scan of them).</summary>
    private static readonly TimeSpan BoundsInterval = TimeSpan.FromMinutes(1);

    private DateTimeOffset _nextBounds = DateTimeOffset.MinValue;

    /// <summary>Every second: a write probe while unwritable, then a retention pass.</summary>
    private async Task TrimLoopAsync()
    {
        using var timer = new PeriodicTimer(TrimInterval, _time);
        var token = _stopping.Token;
        try
        {
            while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false))
            {
                await ProbeAsync(token).ConfigureAwait(false);
                if (_health.Trouble is not null)
                {
                    continue;
                }

                try
                {
                    await TrimAsync(token).ConfigureAwait(false);
                }
                catch (Exception ex) when (!token.IsCancellationRequested)
                {
                    // Tried again next second; nothing is lost meanwhile, the log only keeps more for longer.
                    Log.TrimFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// One pass of retention, on one node at a time (the others find the lock taken and skip): moves where the log starts
    /// (<c>MaxEvents</c> behind the head, past events older than <c>MaxAge</c>) by at most <see cref="TrimChunk"/> and
    /// deletes the rows before it; deletes the positions of groups gone longer than <c>MaxAge</c>, and (once a minute) the
    /// counters of topics beyond <c>MaxTopics</c>. The new start is committed before, or with, the deletion, so a node that reads it never
    /// asks for the rows; one that reads first finds them gone and says so (<see cref="ReadAsync"/>). Never touches
    /// <c>hub_head</c>: retention never waits for an append, nor an append for it. Returns how many events it deleted.
    /// </summary>
    internal async Task<int> TrimAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"SELECT pg_try_advisory_xact_lock({TrimLock}), (SELECT head FROM hub_head), (SELECT first_retained FROM hub_retention)", connection, transaction);
        long head, first;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (!reader.GetBoolean(0))
            {
                return 0; // another node is trimming
            }

            head = reader.GetInt64(1);
            first = reader.GetInt64(2);
        }

        var keepFrom = Math.Max(first, head - _options.Retention.MaxEvents + 1);

        // By age: the first event young enough (each node appends in time order; a node's clock behind another's only
        // keeps an event longer), looked for among the next chunk only, so a pass reads a bounded number of rows.
        var chunkEnd = Math.Min(first + TrimChunk, head);
        command.CommandText = "SELECT min(sequence) FROM hub_events WHERE sequence >= $1 AND sequence <= $2 AND time >= $3";
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = keepFrom });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = chunkEnd });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = (now - _options.Retention.MaxAge).ToUnixTimeMilliseconds() });
        var young = keepFrom <= chunkEnd ? await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) : null;
        keepFrom = young is long firstYoung ? Math.Max(keepFrom, firstYoung) : Math.Max(keepFrom, chunkEnd + 1);

        var deleted = 0;
        var to = Math.Min(keepFrom, first + TrimChunk);
        if (first < to)
        {
            await using var batch = new NpgsqlBatch(connection, transaction);
            batch.BatchCommands.Add(Statement("UPDATE hub_retention SET first_retained = $1 WHERE first_retained < $1", to));
            batch.BatchCommands.Add(Statement("DELETE FROM hub_events WHERE sequence < $1", to));
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            deleted = batch.BatchCommands[1].RecordsAffected;
        }

        await ExpireGroupPositionsAsync(command, now, cancellationToken).ConfigureAwait(false);
        if (now >= _nextBounds)
        {
            _nextBounds = now + BoundsInterval;
            await EnforceBoundsAsync(command, cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        if (first < to)
        {
            Retained(to);
            Log.Trimmed(_logger, deleted, to);
        }

        return deleted;
    }

    /// <summary>
    /// Removes the positions of groups gone longer than <c>MaxAge</c> from memory, and from the table those whose stored
    /// row says so too (a group that has members on another node has a row without a gone time, and keeps it).
    /// </summary>
    private async Task ExpireGroupPositionsAsync(NpgsqlCommand command, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var expired = _groups.ExpireIfDue(now, _options.Retention.MaxAge);
        if (expired.Count == 0)
        {
            return;
        }

        // A group some node still holds leases of is live, whatever its stored row says; its partitions go with it.
        command.CommandText = "WITH gone AS (DELETE FROM hub_group_positions g USING unnest($1::text[], $2::text[]) AS x(name, identity) " +
            "WHERE g.name = x.name AND g.identity = x.identity AND g.gone IS NOT NULL AND g.gone < $3 " +
            "AND NOT EXISTS (SELECT 1 FROM hub_group_holders h WHERE h.name = g.name AND h.identity = g.identity AND h.expires >= $4) " +
            "RETURNING g.name, g.identity), " +
            "leases AS (DELETE FROM hub_group_leases l USING gone WHERE l.name = gone.name AND l.identity = gone.identity) " +
            "DELETE FROM hub_group_holders h USING gone WHERE h.name = gone.name AND h.identity = gone.identity";
        command.Parameters.Clear();
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = expired.Select(g => g.Name).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = expired.Select(g => g.Identity).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = (now - _options.Retention.MaxAge).ToUnixTimeMilliseconds() });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = now.ToUnixTimeMilliseconds() });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        Log.GroupPositionsExpired(_logger, expired.Count);
    }

    /// <summary>
    /// <c>hub_topics</c> stays within <c>MaxTopics</c>, as the nodes' counters do: the rows of the topics published to least
    /// recently beyond it are deleted, at most <see cref="TrimChunk"/> a pass. (Dedup ids and answers are kept within their
    /// bound by <c>hub_append</c> itself.)
    /// </summary>
    private async Task EnforceBoundsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        command.CommandText = "DELETE FROM hub_topics WHERE ctid IN (SELECT ctid FROM hub_topics ORDER BY last_sequence DESC OFFSET $1 LIMIT $2)";
        command.Parameters.Clear();
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = _options.MaxTopics });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = TrimChunk });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A statement of a batch with its positional parameters.</summary>
    private static NpgsqlBatchCommand Statement(string sql, params object[] values)
    {
        var statement = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            statement.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return statement;
    }
}
