using Microsoft.Data.Sqlite;

namespace Hub.Log.Sqlite;

public sealed partial class SqliteEventLog
{
    /// <summary>Asks the writer for a retention pass every second (at most one waits in its queue at a time).</summary>
    private async Task TrimLoopAsync()
    {
        using var timer = new PeriodicTimer(TrimInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                if (!_queue.RequestMaintenance())
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// One pass of retention, on the writer (between groups): deletes what retention no longer keeps (beyond
    /// <c>MaxEvents</c>, older than <c>MaxAge</c>), at most <see cref="TrimChunk"/> events at a time so a group never waits
    /// long, and dedup entries past their window. Returns how many events it deleted.
    /// </summary>
    private int Trim()
    {
        using var command = _writer.CreateCommand();
        var now = _time.GetUtcNow();
        var head = Head;
        var keepFrom = Math.Max(Volatile.Read(ref _trimmedTo), head - _options.Retention.MaxEvents + 1);

        // Retention by age: the first event young enough (events are appended in time order, so stop at the first).
        command.CommandText = "SELECT sequence FROM events WHERE sequence >= $from AND time >= $cutoff ORDER BY sequence LIMIT 1";
        command.Parameters.AddWithValue("$from", keepFrom);
        command.Parameters.AddWithValue("$cutoff", (now - _options.Retention.MaxAge).ToUnixTimeMilliseconds());
        var young = command.ExecuteScalar();
        keepFrom = young is long firstYoung ? Math.Max(keepFrom, firstYoung) : Math.Max(keepFrom, head + 1);

        var deleted = 0;
        var trimmedTo = Volatile.Read(ref _trimmedTo);
        if (trimmedTo < keepFrom)
        {
            var to = Math.Min(keepFrom, trimmedTo + TrimChunk);

            // Readers stop asking for these rows before they go.
            Volatile.Write(ref _trimmedTo, to);
            command.Parameters.Clear();
            command.CommandText = "DELETE FROM events WHERE sequence < $to";
            command.Parameters.AddWithValue("$to", to);
            deleted += command.ExecuteNonQuery();
            trimmedTo = to;
            if (trimmedTo < keepFrom)
            {
                // More to delete: the next chunk waits behind whatever groups are queued now.
                _queue.RequestMaintenance();
            }
        }

        var since = (now - _options.DedupWindow).ToUnixTimeMilliseconds();
        command.Parameters.Clear();
        command.Parameters.AddWithValue("$since", since);
        command.CommandText = "DELETE FROM dedup WHERE time < $since";
        command.ExecuteNonQuery();
        command.CommandText = "DELETE FROM idempotency WHERE time < $since";
        command.ExecuteNonQuery();
        command.Parameters.Clear();
        TrimTopics(command);
        ExpireGroupPositions(command, now);
        if (deleted > 0)
        {
            Log.Trimmed(_logger, deleted, trimmedTo);
        }

        return deleted;
    }

    /// <summary>
    /// Keeps the topics table within <c>Hub:Log:MaxTopics</c> as a node keeps its counters (<see cref="TopicCounters"/>):
    /// past the bound, the tenth published to least recently goes (a node that starts loads what is left).
    /// </summary>
    private void TrimTopics(SqliteCommand command)
    {
        var max = _options.MaxTopics;
        command.CommandText = "SELECT count(*) FROM topics";
        var count = Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        if (count <= max)
        {
            return;
        }

        command.CommandText = "DELETE FROM topics WHERE topic IN (SELECT topic FROM topics ORDER BY last_sequence LIMIT $drop)";
        command.Parameters.AddWithValue("$drop", count - max + Math.Max(1, max / 10));
        var dropped = command.ExecuteNonQuery();
        command.Parameters.Clear();
        Log.TopicsDropped(_logger, dropped, max);
    }

    /// <summary>Removes the positions of groups gone longer than <c>MaxAge</c>, from memory and the file; at most once a minute.</summary>
    private void ExpireGroupPositions(SqliteCommand command, DateTimeOffset now)
    {
        var expired = _groups.ExpireIfDue(now, _options.Retention.MaxAge);
        if (expired.Count == 0)
        {
            return;
        }

        using var transaction = _writer.BeginTransaction();
        command.Transaction = transaction;
        command.CommandText = "DELETE FROM group_positions WHERE name = $name AND identity = $identity";
        var name = command.Parameters.Add("$name", SqliteType.Text);
        var identity = command.Parameters.Add("$identity", SqliteType.Text);
        foreach (var group in expired)
        {
            name.Value = group.Name;
            identity.Value = group.Identity;
            command.ExecuteNonQuery();
        }

        transaction.Commit();
        command.Parameters.Clear();
        Log.GroupPositionsExpired(_logger, expired.Count);
    }
}
