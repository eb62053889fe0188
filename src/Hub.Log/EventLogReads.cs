namespace Hub.Log;

/// <summary>How a consumer that must not give up reads the log: through an outage of its store.</summary>
public static class EventLogReads
{
    /// <summary>The longest wait between two tries, whatever the store's <see cref="LogUnavailableException.RetryAfter"/>
    /// says, so that a stage that ends meanwhile notices soon.</summary>
    public static readonly TimeSpan MaxRetryWait = TimeSpan.FromSeconds(2);

    /// <summary>
    /// <see cref="IEventLog.ReadAsync"/>, tried again while the log cannot be read (its store is unreachable:
    /// <see cref="LogUnavailableException"/>), after the wait the store suggests (at most <see cref="MaxRetryWait"/>),
    /// until it reads or <paramref name="cancellationToken"/> ends it. A delivery stage, group or handler therefore
    /// resumes by itself when PostgreSQL returns, where it was, instead of ending. <paramref name="onUnavailable"/> is told
    /// of each failed try with its number (1 for the first of an outage), to say so in the log once.
    /// </summary>
    public static async ValueTask<LogRead> ReadThroughOutagesAsync(this IEventLog log, long after, IEventFilter? filter, int maxEvents, int maxBytes, List<LogEntry> into, Action<LogUnavailableException, int> onUnavailable, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await log.ReadAsync(after, filter, maxEvents, maxBytes, into, cancellationToken).ConfigureAwait(false);
            }
            catch (LogUnavailableException ex)
            {
                into.Clear(); // a read that failed midway leaves nothing behind for the next try to repeat
                onUnavailable(ex, attempt);
                var wait = ex.RetryAfter <= TimeSpan.Zero || ex.RetryAfter > MaxRetryWait ? MaxRetryWait : ex.RetryAfter;
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
