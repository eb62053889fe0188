using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Hub.Log.Sqlite;

/// <summary>
/// How the log fails, loudly. <b>Unwritable</b> (a write failed with the disk full, an I/O error, a lock held elsewhere):
/// the group is refused whole, dedup forgets it, the log is not ready until a write succeeds again (the next group, or
/// the probe the writer runs each second), and retention keeps running. <b>Failed</b> (the writer stopped on an error it
/// does not expect, or the file was deleted or replaced under the hub): every append, queued or new, is refused at once,
/// and the log is neither ready nor alive, so an orchestrator restarts the hub. Both are logged when they begin, and the
/// first when it ends.
/// </summary>
public sealed partial class SqliteEventLog
{
    /// <summary>What <c>Retry-After</c> says to an append the log refused because it cannot write: about a restart's time.</summary>
    internal static readonly TimeSpan FailureRetryAfter = TimeSpan.FromSeconds(5);

    private const int SqliteBusy = 5, SqliteLocked = 6, SqliteReadOnly = 8, SqliteIoErr = 10, SqliteFull = 13, SqliteCantOpen = 14;
    private const int SqliteReadOnlyDbMoved = SqliteReadOnly | (4 << 8);

    private FileIdentity? _identity;  // the database file, as opened

    /// <inheritdoc />
    public ValueTask<LogHealth> CheckHealthAsync(CancellationToken cancellationToken = default)
    {
        if (_health.Failed() is { } failed)
        {
            return new(failed);
        }

        if (_stopping.IsCancellationRequested || _writerLoop.IsCompleted)
        {
            return new(new LogHealth(LogState.Failed, "the log is closed"));
        }

        if (FileChanged() is { } change)
        {
            Fail(change, null);
            return new(new LogHealth(LogState.Failed, WriteHealth.Unrecoverable(change)));
        }

        if (_health.Unwritably() is { } unwritable)
        {
            return new(unwritable);
        }

        try
        {
            using var connection = Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT 1";
            command.ExecuteScalar();
        }
        catch (SqliteException ex)
        {
            return new(new LogHealth(LogState.Unwritable, $"the log's file cannot be opened: {ex.Message}"));
        }

        return new(LogHealth.Writable($"log head {Head}"));
    }

    /// <summary>Whether a failed write may succeed later without a restart: the disk was full, an I/O error, the file
    /// locked or made read-only by someone else. Anything else (a table gone, a corrupt page, a bug) is not.</summary>
    private static bool IsTransient(Exception exception) => exception switch
    {
        SqliteException { SqliteExtendedErrorCode: SqliteReadOnlyDbMoved } => false,
        SqliteException { SqliteErrorCode: SqliteBusy or SqliteLocked or SqliteReadOnly or SqliteIoErr or SqliteFull or SqliteCantOpen } => true,
        IOException => true,
        _ => false,
    };

    /// <summary>The reason publishers are told, in words: no path, no stack.</summary>
    private static string Describe(Exception exception) => exception switch
    {
        SqliteException { SqliteErrorCode: SqliteFull } => "the disk is full",
        SqliteException { SqliteErrorCode: SqliteIoErr } => "an I/O error",
        SqliteException { SqliteErrorCode: SqliteBusy or SqliteLocked } => "the file is locked by another process",
        SqliteException { SqliteErrorCode: SqliteReadOnly } => "the file is read-only",
        SqliteException { SqliteErrorCode: SqliteCantOpen } => "a file of the log cannot be opened",
        _ => exception.GetType().Name,
    };

    /// <summary>Whether the path still names the file the log opened; if not, why not (for <see cref="Fail"/>).</summary>
    private string? FileChanged()
    {
        FileIdentity? now;
        try
        {
            now = FileIdentity.Of(Path);
        }
        catch (IOException)
        {
            return null; // cannot tell (not "it is gone"): the write itself says whether the file works
        }

        return now == _identity ? null
            : now is null ? "the database file was deleted"
            : "the database file was replaced";
    }

    /// <summary>
    /// The log can no longer be written: said once, at Critical; every append from now on, queued or new, is refused at
    /// once. Called by the writer, or by a health check that finds the file replaced.
    /// </summary>
    private void Fail(string why, Exception? exception)
    {
        if (!_health.TryFail(why))
        {
            return;
        }

        Log.Failed(_logger, exception, Path, why);
        _queue.Complete(); // the writer refuses what is queued and stops
    }

    /// <summary>The group could not be written: the log is unwritable (logged when it becomes so, then at Debug).</summary>
    private LogUnavailableException WriteFailed(Exception exception, int appends, int events)
    {
        if (_health.WriteFailed($"{Describe(exception)} ({exception.Message})", _time.GetUtcNow(), appends, out var trouble))
        {
            Log.WriteFailed(_logger, exception, appends, events, Path);
        }
        else
        {
            Log.StillUnwritable(_logger, appends, events, exception.Message);
        }

        return _health.Unavailable(trouble, exception);
    }

    /// <summary>A write succeeded: the log takes appends again.</summary>
    private void Recovered()
    {
        // Said before it is cleared (only the writer changes it): whoever sees the log writable again finds it said.
        if (_health.Trouble is { } trouble)
        {
            Log.Recovered(_logger, Path, (_time.GetUtcNow() - trouble.Since).TotalSeconds, trouble.Refused);
            _health.Recover();
        }
    }

    /// <summary>
    /// While writes fail, one page is written (the header's <c>user_version</c>, rewritten unchanged: it needs room in
    /// the write-ahead log like any commit) to learn when they succeed again, with no publisher retrying.
    /// </summary>
    private void ProbeWrite()
    {
        try
        {
            using var transaction = _writer.BeginTransaction();
            using var command = _writer.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "PRAGMA user_version";
            var version = Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
            command.CommandText = string.Create(CultureInfo.InvariantCulture, $"PRAGMA user_version = {version}");
            command.ExecuteNonQuery();
            transaction.Commit();
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            _diskFull |= LacksSpace(ex);
            Log.ProbeFailed(_logger, ex.Message);
            return;
        }

        if (FileChanged() is { } change)
        {
            Fail(change, null);
            return;
        }

        Recovered();
    }

    /// <summary>Refuses the appends not answered yet, with why the log failed.</summary>
    private void Refuse(List<PendingAppend> appends) => _queue.Refuse(appends, _health.Refusal());

    private void Refuse(List<PendingAppend> appends, LogUnavailableException refusal) => _queue.Refuse(appends, refusal);
}
