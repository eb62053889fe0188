using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Hub.Log.Sqlite;

/// <summary>
/// One file, several processes. Each process's writer decides inside its own <c>BEGIN IMMEDIATE</c> transaction (the
/// file's write lock; a second writer waits in SQLite's busy handler, <c>busy_timeout</c>), so the file is the one
/// judge of sequences, duplicates and idempotency answers. A process that has only ever seen its own commits (SQLite's
/// <c>data_version</c> has not moved under its writer's connection) decides from memory, exactly as a lone hub does:
/// nothing is read back, and the single-process figures stay. Once another writer has committed, the process is
/// <i>shared</i> for good: each transaction reads the head from the file, and each id or key its memory does not know
/// from the tables (a known one is known for sure: rows are only ever added, until their window ends). Other writers'
/// commits reach this process's node through a poll of <c>data_version</c> on a connection of its own every
/// <c>Hub:Log:Sqlite:PollInterval</c> (and through the writer, when it finds them under its own commit).
/// </summary>
public sealed partial class SqliteEventLog
{
    private long _writtenHead;   // the writer's: the head after its last transaction (its own commit, or read from the file)
    private long _dataVersion;   // the writer's: data_version at its last transaction
    private bool _shared;        // the writer's: another writer has committed to this file since it was opened
    private Task _pollLoop = Task.CompletedTask;

    /// <summary>Whether another process (or another instance) has written to this file since this one opened it.</summary>
    internal bool Shared => Volatile.Read(ref _shared);

    /// <summary>
    /// At the start of the writer's transaction: whether another writer committed since the last one, and the head to
    /// assign after (read from the file once shared).
    /// </summary>
    private long SeeOtherWriters()
    {
        var version = _statements.DataVersion();
        if (version != _dataVersion)
        {
            _dataVersion = version;
            Volatile.Write(ref _shared, true);
        }

        return _shared ? Math.Max(_writtenHead, _statements.StoredHead()) : _writtenHead;
    }

    /// <summary>An idempotency key's first answer: from memory, or, once shared, from the table (then remembered).</summary>
    private bool TryGetAnswer(IdempotencyKey key, DateTimeOffset now, out AppendedEvent[] answer)
    {
        if (_dedup.TryGetAnswer(key, out answer))
        {
            return true;
        }

        if (!_shared || _statements.StoredAnswer(key, Since(now)) is not { } stored)
        {
            return false;
        }

        answer = JsonSerializer.Deserialize(stored, SqliteJson.Default.AppendedEventArray) ?? [];
        if (answer.Length == 0)
        {
            return false;
        }

        _dedup.RememberAnswer(key, answer, now);
        return true;
    }

    /// <summary>Once shared: the ids of <paramref name="drafts"/> another writer stored within the window, into memory.</summary>
    private void LearnStoredIds(IReadOnlyList<EventDraft> drafts, DateTimeOffset now)
    {
        var since = Since(now);
        foreach (var draft in drafts)
        {
            if (draft.Id is { } id && !_dedup.TryGetSequence(draft.Topic, id, out _) && _statements.StoredId(draft.Topic, id, since) is { } sequence)
            {
                _dedup.RememberId(draft.Topic, id, sequence, now);
            }
        }
    }

    private long Since(DateTimeOffset now) => (now - _dedup.Window).ToUnixTimeMilliseconds();

    /// <summary>Moves the head this instance knows forward (never back): the writer's commits and the poll both do.</summary>
    private void RaiseHead(long head) => Monotonic.Raise(ref _head, head);

    private void RaiseTrimmedTo(long first) => Monotonic.Raise(ref _trimmedTo, first);

    /// <summary>
    /// Every <c>PollInterval</c>, on a connection of its own, looks whether the file changed (<c>data_version</c>, one
    /// cheap pragma); when it did, reads its head and first row, and tells the node of the head (its own commits come back
    /// this way too, and the node ignores what it has). A failing look is said once and tried again at the next tick.
    /// </summary>
    private async Task PollLoopAsync()
    {
        using var timer = new PeriodicTimer(_options.Sqlite.PollInterval);
        SqliteConnection? connection = null;
        var version = -1L;
        var failing = false;
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    connection ??= OpenPollConnection();
                    using var command = connection.CreateCommand();
                    command.CommandText = "PRAGMA data_version";
                    var now = Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
                    if (now == version)
                    {
                        continue;
                    }

                    version = now;
                    command.CommandText = SqliteStatements.HeadAndFirstSql;
                    long head, first;
                    using (var reader = command.ExecuteReader())
                    {
                        reader.Read();
                        head = reader.GetInt64(0);
                        first = reader.GetInt64(1);
                    }

                    if (first > 0)
                    {
                        RaiseTrimmedTo(first); // another writer's retention: readers stop asking for what it deleted
                    }

                    if (head > 0)
                    {
                        RaiseHead(head);
                        _feed!.HeadMoved(head);
                    }

                    failing = false;
                }
                catch (SqliteException ex)
                {
                    if (!failing)
                    {
                        Log.PollFailed(_logger, ex, Path);
                        failing = true;
                    }

                    connection?.Dispose();
                    connection = null;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            connection?.Dispose();
        }
    }

    /// <summary>The poll's connection: not pooled (<c>data_version</c> is per connection, so it must stay the same one).</summary>
    private SqliteConnection OpenPollConnection()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder(_readerConnectionString) { Pooling = false }.ToString());
        connection.Open();
        return connection;
    }
}
