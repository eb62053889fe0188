using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Hub.Log.Sqlite;

public sealed partial class SqliteEventLog
{
    /// <summary>
    /// The one writer: takes every append waiting (up to a group's size) into one transaction, and runs retention when
    /// the timer asks, between groups, on the same connection: nothing else in this process takes the file's write lock,
    /// so a commit waits in SQLite's busy handler only for another process writing the same file (see the Shared part).
    /// An error it does not expect stops it, loudly (see <see cref="Fail"/>):
    /// what it held and everything queued after is refused, never left waiting.
    /// </summary>
    private Task WriteLoopAsync() => _queue.RunAsync(
        _options.Sqlite.MaxGroupEvents,
        _health,
        (group, events) =>
        {
            Commit(group, events);
            return ValueTask.CompletedTask;
        },
        () =>
        {
            WriteGroupPositions();
            return ValueTask.CompletedTask;
        },
        () =>
        {
            Maintain();
            return ValueTask.CompletedTask;
        },
        Fail);

    /// <summary>Retention (on a full disk, with the room it needs: see the Reserve part), and while writes fail, a probe of
    /// whether they succeed again (so the hub recovers with no publisher retrying, and readiness says so); while they
    /// succeed, the reserve kept in place.</summary>
    private void Maintain()
    {
        if (_health.Trouble is not null && _diskFull)
        {
            MakeRoom();
        }
        else
        {
            try
            {
                Trim();
            }
            catch (Exception ex) when (IsTransient(ex))
            {
                Log.TrimFailed(_logger, ex);
            }
        }

        if (_health.Trouble is not null)
        {
            ProbeWrite();
        }
        else
        {
            KeepReserve();
        }
    }

    /// <summary>Writes the group positions saved since the last time, in one transaction.</summary>
    private void WriteGroupPositions()
    {
        try
        {
            using var transaction = _writer.BeginTransaction();
            using var command = _writer.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "INSERT INTO group_positions (name, identity, acknowledged, handed, gone) VALUES ($name, $identity, $acknowledged, $handed, $gone) " +
                "ON CONFLICT (name, identity) DO UPDATE SET acknowledged = excluded.acknowledged, handed = excluded.handed, gone = excluded.gone";
            var name = command.Parameters.Add("$name", SqliteType.Text);
            var identity = command.Parameters.Add("$identity", SqliteType.Text);
            var acknowledged = command.Parameters.Add("$acknowledged", SqliteType.Integer);
            var handed = command.Parameters.Add("$handed", SqliteType.Integer);
            var gone = command.Parameters.Add("$gone", SqliteType.Integer);
            foreach (var saved in _queue.TakeUnsavedPositions())
            {
                name.Value = saved.Group.Name;
                identity.Value = saved.Group.Identity;
                acknowledged.Value = saved.Position.Acknowledged;
                handed.Value = saved.Position.Handed;
                gone.Value = saved.Gone is { } since ? since.ToUnixTimeMilliseconds() : DBNull.Value;
                command.ExecuteNonQuery();
            }

            transaction.Commit();
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            // A position not written only makes the group read acknowledged events again after a restart.
            Log.GroupPositionsFailed(_logger, ex);
        }
    }

    /// <summary>
    /// Decides and writes the group in one transaction, and only then shows it to the node and answers. The transaction
    /// begins with the file's write lock (<c>BEGIN IMMEDIATE</c>), so what it reads (the head, stored ids and keys) is what
    /// it writes over: two processes on one file agree on every sequence, duplicate and answer.
    /// </summary>
    private void Commit(List<PendingAppend> group, int eventCount)
    {
        if (TryCommit(group, eventCount) is not { } failure)
        {
            if (_health.Failure is null)
            {
                KeepWithinRoom();
            }

            return;
        }

        if (LacksSpace(failure) && _health.Trouble is null)
        {
            // The disk is full: make room (the reserve, retention, a checkpoint) and write the group once more, before any
            // of its publishers is answered.
            var deleted = MakeRoom();
            if (TryCommit(group, eventCount) is not { } again)
            {
                Log.WroteAfterMakingRoom(_logger, Path, group.Count, eventCount, deleted);
                return;
            }

            failure = again;
        }

        // Nothing of the group was committed (the disk is full, an I/O error, the lock not had): refuse it whole. The log is
        // unwritable until a write succeeds again.
        _diskFull |= LacksSpace(failure);
        Refuse(group, WriteFailed(failure, group.Count, eventCount));
    }

    /// <summary>
    /// One try at <see cref="Commit"/>: answers the group when it is committed (or refuses it when the file is no longer the
    /// log's); when the transaction fails with an error that may pass, returns it with nothing of the group committed or
    /// remembered, and nobody answered.
    /// </summary>
    private Exception? TryCommit(List<PendingAppend> group, int eventCount)
    {
        var now = _time.GetUtcNow();
        _dedup.Expire(now);
        var answers = new IReadOnlyList<AppendedEvent>[group.Count];
        var entries = new List<LogEntry>(eventCount);
        var newIds = new List<(string Topic, string Id)>();
        var newKeys = new List<(IdempotencyKey Key, AppendedEvent[] Answer)>();
        long head, before = _writtenHead;
        SqliteTransaction? transaction = null;
        try
        {
            transaction = _writer.BeginTransaction(deferred: false);
            _statements.Enlist(transaction);
            head = SeeOtherWriters();
            for (var g = 0; g < group.Count; g++)
            {
                var append = group[g];
                if (append.IdempotencyKey is { } key && TryGetAnswer(key, now, out var earlier))
                {
                    answers[g] = earlier;
                    continue;
                }

                if (_shared)
                {
                    LearnStoredIds(append.Events, now);
                }

                var results = SequenceAssigner.Assign(append.Events, ref head, _dedup, now, entries, newIds);
                if (append.IdempotencyKey is { } newKey)
                {
                    _dedup.RememberAnswer(newKey, results, now);
                    newKeys.Add((newKey, results));
                }

                answers[g] = results;
            }

            if (entries.Count > 0 || newKeys.Count > 0)
            {
                Write(entries, newIds, newKeys, now);
            }

            transaction.Commit();
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            // Nothing of the group was committed: forget what it made dedup remember.
            Forget(newIds, newKeys);
            return ex;
        }
        finally
        {
            transaction?.Dispose();
            _statements.Enlist(null);
        }

        if (FileChanged() is { } change)
        {
            // Committed into a file that is no longer the log's (deleted or replaced): nobody will ever read it there.
            Forget(newIds, newKeys);
            Fail(change, null);
            Refuse(group);
            return null;
        }

        if (_health.Trouble is not null)
        {
            Recovered();
        }

        // Committed: now the node may see it, in order (other writers' rows before it first), then the publishers are answered.
        _writtenHead = head;
        RaiseHead(head);
        if (head - entries.Count > before)
        {
            _feed!.HeadMoved(head - entries.Count);
        }

        if (entries.Count > 0)
        {
            _feed!.Committed(entries);
        }

        AssertInvariants();
        for (var g = 0; g < group.Count; g++)
        {
            if (group[g].Done.TrySetResult(answers[g]))
            {
                _queue.AddPending(-group[g].Events.Count);
            }
        }

        return null;
    }

    /// <summary>Undoes what a group that was not committed made dedup remember.</summary>
    private void Forget(List<(string Topic, string Id)> newIds, List<(IdempotencyKey Key, AppendedEvent[] Answer)> newKeys)
    {
        foreach (var (key, _) in newKeys)
        {
            _dedup.Forget([], key);
        }

        _dedup.Forget(newIds, null);
    }

    /// <summary>Writes the group's rows in the writer's open transaction.</summary>
    private void Write(List<LogEntry> entries, List<(string Topic, string Id)> newIds, List<(IdempotencyKey Key, AppendedEvent[] Answer)> newKeys, DateTimeOffset now)
    {
        var at = now.ToUnixTimeMilliseconds();
        var perTopic = new Dictionary<string, (long Count, long Last)>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            _statements.InsertEvent(entry);
            perTopic[entry.Topic] = perTopic.TryGetValue(entry.Topic, out var t) ? (t.Count + 1, entry.Sequence) : (1, entry.Sequence);
        }

        foreach (var (topic, id) in newIds)
        {
            _dedup.TryGetSequence(topic, id, out var sequence);
            _statements.InsertDedup(topic, id, sequence, at);
        }

        foreach (var (key, answer) in newKeys)
        {
            _statements.InsertIdempotency(key, JsonSerializer.Serialize(answer, SqliteJson.Default.AppendedEventArray), at);
        }

        foreach (var (topic, (count, last)) in perTopic)
        {
            _statements.UpsertTopic(topic, count, last);
        }
    }
}
