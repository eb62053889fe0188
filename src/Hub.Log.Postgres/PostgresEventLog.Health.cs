using System.Net.Sockets;
using Npgsql;

namespace Hub.Log.Postgres;

/// <summary>
/// How the log fails, loudly. <b>Unwritable</b> (PostgreSQL unreachable, restarting, out of disk or connections, read-only
/// after a failover): the group is refused whole, the log is not ready until a write succeeds again, and appends that
/// arrive meanwhile are refused at once for up to <see cref="ProbeInterval"/> after the last failed attempt, so no
/// publisher waits a connection timeout each; a probe write every <see cref="ProbeInterval"/> finds the recovery with no
/// publisher retrying. <b>Failed</b> (an error it does not expect: a table dropped under it, a bug): every append is
/// refused at once and the log is neither ready nor alive, so an orchestrator restarts the node. Both are logged when
/// they begin, and the first when it ends.
/// </summary>
public sealed partial class PostgresEventLog
{
    /// <summary>What <c>Retry-After</c> says to an append refused because the database cannot be written.</summary>
    internal static readonly TimeSpan FailureRetryAfter = TimeSpan.FromSeconds(2);

    /// <summary>How often, while unwritable, a write is tried again (a probe, or the next group).</summary>
    internal static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long a health check waits for the database.</summary>
    private static readonly TimeSpan HealthTimeout = TimeSpan.FromSeconds(5);


    /// <inheritdoc />
    public async ValueTask<LogHealth> CheckHealthAsync(CancellationToken cancellationToken = default)
    {
        if (_health.Failed() is { } failed)
        {
            return failed;
        }

        if (_stopping.IsCancellationRequested || _writerLoop.IsCompleted && Volatile.Read(ref _feed) is not null)
        {
            return new LogHealth(LogState.Failed, "the log is closed");
        }

        if (_health.Unwritably() is { } unwritable)
        {
            return unwritable;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(HealthTimeout);
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(timeout.Token).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new LogHealth(LogState.Unwritable, $"the database {Database} did not answer within {HealthTimeout.TotalSeconds:0} s");
        }
        catch (Exception ex) when (IsTransient(ex) && !cancellationToken.IsCancellationRequested)
        {
            return new LogHealth(LogState.Unwritable, $"the database {Database} cannot be reached: {Describe(ex)}");
        }

        return LogHealth.Writable($"log head {Head} in {Database}");
    }

    /// <summary>
    /// Whether a failed call may succeed later without a restart: the connection failed or broke, the server is starting,
    /// stopping or out of resources, the transaction lost a conflict, or the server is read-only (a standby). Anything else
    /// (a table gone, a constraint broken: a bug) is not.
    /// </summary>
    internal static bool IsTransient(Exception exception) => exception switch
    {
        PostgresException postgres => postgres.IsTransient || postgres.SqlState[..2] is "08" or "53" or "57" or "58" || postgres.SqlState is "25006" or "40001" or "40P01" or "55P03",
        NpgsqlException => true, // no server error: the connection failed, broke or timed out
        TimeoutException or IOException or SocketException => true,
        _ => false,
    };

    /// <summary>The reason publishers are told, in words: no credentials, no stack.</summary>
    private static string Describe(Exception exception) => exception switch
    {
        PostgresException postgres => $"PostgreSQL said {postgres.SqlState}: {postgres.MessageText}",
        NpgsqlException { InnerException: { } inner } => inner.Message,
        _ => exception.Message,
    };

    /// <summary>The log can no longer be written: said once, at Critical; every append from now on is refused at once.</summary>
    private void Fail(string why, Exception? exception)
    {
        if (!_health.TryFail(why))
        {
            return;
        }

        Log.Failed(_logger, exception, Database, why);
        _queue.Complete();
    }

    /// <summary>While unwritable, and within <see cref="ProbeInterval"/> of the last failed attempt: the refusal, at once.</summary>
    private LogUnavailableException? RefuseWhileUnwritable(List<PendingAppend> group, int events)
    {
        if (_health.Trouble is not { } trouble || _time.GetUtcNow() - trouble.LastAttempt >= ProbeInterval)
        {
            return null;
        }

        trouble.Refused += group.Count;
        Log.StillUnwritable(_logger, group.Count, events, trouble.Reason);
        return _health.Unavailable(trouble);
    }

    /// <summary>A group could not be written: the log is unwritable (logged when it becomes so, then at Debug).</summary>
    private LogUnavailableException WriteFailed(Exception exception, int appends, int events)
    {
        if (_health.WriteFailed(Describe(exception), _time.GetUtcNow(), appends, out var trouble))
        {
            Log.WriteFailed(_logger, exception, appends, events, Database);
        }
        else
        {
            Log.StillUnwritable(_logger, appends, events, Describe(exception));
        }

        return _health.Unavailable(trouble, exception);
    }

    /// <summary>A write succeeded: the log takes appends again.</summary>
    private void Recovered()
    {
        if (_health.Recover() is { } trouble)
        {
            Log.Recovered(_logger, Database, (_time.GetUtcNow() - trouble.Since).TotalSeconds, trouble.Refused);
        }
    }

    /// <summary>
    /// While unwritable: one small write (the epoch's row, rewritten unchanged: it needs a connection, a transaction and
    /// room for its WAL like any commit) to learn when writes succeed again.
    /// </summary>
    private async Task ProbeAsync(CancellationToken cancellationToken)
    {
        if (_health.Trouble is not { } trouble)
        {
            return;
        }

        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("UPDATE hub_meta SET value = value WHERE key = 'epoch'", connection);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransient(ex) && !cancellationToken.IsCancellationRequested)
        {
            trouble.LastAttempt = _time.GetUtcNow();
            Log.ProbeFailed(_logger, Describe(ex));
            return;
        }

        Recovered();
    }

    /// <summary>Refuses the appends not answered yet, with why the log failed.</summary>
    private void Refuse(List<PendingAppend> appends) => _queue.Refuse(appends, _health.Refusal());

    private void Refuse(List<PendingAppend> appends, LogUnavailableException refusal) => _queue.Refuse(appends, refusal);
}
