using Npgsql;

namespace Hub.Log.Postgres;

public sealed partial class PostgresEventLog
{
    /// <inheritdoc />
    /// <remarks>
    /// Pages of at most <see cref="ReadPage"/> rows, each one query on a pooled connection. Every sequence up to a head
    /// this instance was told of is committed and visible (commit order is sequence order), so a row missing below
    /// <paramref name="upTo"/> can only have been removed by retention: the read stops there and says so. A read that
    /// cannot reach the database throws <see cref="LogUnavailableException"/>.
    /// </remarks>
    public async ValueTask<LogRead> ReadAsync(long after, long upTo, IEventFilter? filter, int maxEvents, int maxBytes, List<LogEntry> into, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(after);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEvents, 1);
        var first = FirstRetained;
        if (after + 1 < first)
        {
            return new LogRead(after, Truncated: true, first);
        }

        upTo = Math.Min(upTo, after + _options.MaxScanEvents);
        if (upTo <= after)
        {
            return new LogRead(after, Truncated: false, first);
        }

        try
        {
            return await ReadRowsAsync(after, upTo, filter, maxEvents, maxBytes, into, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransient(ex) && !cancellationToken.IsCancellationRequested)
        {
            throw new LogUnavailableException($"the log cannot be read now: {Describe(ex)}", FailureRetryAfter, ex);
        }
    }

    private async ValueTask<LogRead> ReadRowsAsync(long after, long upTo, IEventFilter? filter, int maxEvents, int maxBytes, List<LogEntry> into, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            "SELECT sequence, topic, type, id, key, time, body FROM hub_events WHERE sequence > $1 AND sequence <= $2 ORDER BY sequence LIMIT $3", connection);
        var afterParameter = new NpgsqlParameter<long> { TypedValue = after };
        command.Parameters.Add(afterParameter);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = upTo });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = ReadPage });

        var page = new LogPage(after, upTo, filter, maxEvents, maxBytes, into);
        while (page.WantsMore)
        {
            afterParameter.TypedValue = page.Position;
            var rows = 0;
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var sequence = reader.GetInt64(0);
                    if (!page.Follows(sequence))
                    {
                        // Retention removed the rows before it (nothing else leaves a hole): the log starts there at least.
                        Retained(sequence);
                        return page.Cut(truncated: true, FirstRetained);
                    }

                    rows++;
                    if (page.Take(ReadEntry(reader, sequence)))
                    {
                        break;
                    }
                }
            }

            if (rows == 0)
            {
                // Everything from here to upTo is gone: retention passed it. Where the log starts now is in the database.
                await RefreshFirstRetainedAsync(connection, cancellationToken).ConfigureAwait(false);
                return page.Cut(truncated: after + 1 < FirstRetained, FirstRetained);
            }
        }

        return page.Done(FirstRetained);
    }

    /// <summary>Reads a row of <c>SELECT sequence, topic, type, id, key, time, body</c>; composes its envelope.</summary>
    private static LogEntry ReadEntry(NpgsqlDataReader reader, long sequence) => new(
        sequence,
        reader.GetString(1),
        reader.IsDBNull(2) ? null : reader.GetString(2),
        reader.IsDBNull(3) ? null : reader.GetString(3),
        reader.IsDBNull(4) ? null : reader.GetString(4),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
        EnvelopeJson.Compose(sequence, reader.GetFieldValue<byte[]>(6)));

    private async Task RefreshFirstRetainedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT first_retained FROM hub_retention", connection);
        if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long first)
        {
            Retained(first);
        }
    }

    /// <summary>The log starts at <paramref name="first"/> at least (it never moves back).</summary>
    private void Retained(long first) => Monotonic.Raise(ref _firstRetained, first);

    /// <summary>A head was committed (it never moves back).</summary>
    private void Advanced(long head) => Monotonic.Raise(ref _head, head);
}
