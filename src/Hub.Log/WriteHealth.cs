namespace Hub.Log;

/// <summary>
/// Whether a durable log can write, shared by its engines: <b>failed</b> (set once, why: every append is refused until
/// the hub restarts) and <b>unwritable</b> (since when and why writes fail, when one was last tried, how many appends
/// were refused meanwhile; cleared when a write succeeds). The engine decides what fails and logs it; this holds the state
/// and words the refusals and health reports alike for every engine.
/// </summary>
/// <param name="failureRetryAfter">What <c>Retry-After</c> says to an append refused because the log cannot write.</param>
internal sealed class WriteHealth(TimeSpan failureRetryAfter)
{
    private string? _failure;         // set once: why the log can no longer be written (said to publishers)
    private Unwritable? _unwritable;  // set while writes fail, cleared when one succeeds

    /// <summary>Why the log can no longer be written, once it has failed.</summary>
    public string? Failure => Volatile.Read(ref _failure);

    /// <summary>Why writes fail now, while they do.</summary>
    public Unwritable? Trouble => Volatile.Read(ref _unwritable);

    /// <summary>Marks the log failed; false if it already was (the first reason stays, and is said once).</summary>
    public bool TryFail(string why) => Interlocked.CompareExchange(ref _failure, why, null) is null;

    /// <summary>The health report while failed, or else while unwritable; null while writable.</summary>
    public LogHealth? Failed() => Failure is { } failure ? new LogHealth(LogState.Failed, Unrecoverable(failure)) : null;

    /// <summary>The health report while unwritable; null otherwise.</summary>
    public LogHealth? Unwritably() =>
        Trouble is { } trouble ? new LogHealth(LogState.Unwritable, $"the log cannot be written since {trouble.Since:O}: {trouble.Reason}") : null;

    /// <summary>What an append is told once the log has failed.</summary>
    public LogUnavailableException Refusal(string failure) => new(Unrecoverable(failure), failureRetryAfter);

    /// <summary>What an append is told once the log has failed (it has).</summary>
    public LogUnavailableException Refusal() => Refusal(Failure!);

    /// <summary>What an append is told while the log is unwritable.</summary>
    public LogUnavailableException Unavailable(Unwritable trouble, Exception? exception = null) =>
        new($"the log cannot be written now: {trouble.Reason}", failureRetryAfter, exception);

    /// <summary>The words of a failure, for publishers and health reports.</summary>
    public static string Unrecoverable(string failure) => $"the log cannot be written until the hub restarts: {failure}";

    /// <summary>
    /// A write of <paramref name="appends"/> failed at <paramref name="now"/>: the log is unwritable, since now with
    /// <paramref name="reason"/> if it was not already (then true: the engine logs the start), else still.
    /// </summary>
    public bool WriteFailed(string reason, DateTimeOffset now, int appends, out Unwritable trouble)
    {
        var current = Trouble;
        var began = current is null;
        if (current is null)
        {
            current = new Unwritable(reason, now);
            Volatile.Write(ref _unwritable, current);
        }

        current.LastAttempt = now;
        current.Refused += appends;
        trouble = current;
        return began;
    }

    /// <summary>A write succeeded: the log takes appends again. The trouble it ends, if any (for the engine to log).</summary>
    public Unwritable? Recover() => Interlocked.Exchange(ref _unwritable, null);

    /// <summary>Since when, and why, writes fail; when a write was last tried; how many appends were refused meanwhile.</summary>
    internal sealed class Unwritable(string reason, DateTimeOffset since)
    {
        public string Reason { get; } = reason;

        public DateTimeOffset Since { get; } = since;

        public DateTimeOffset LastAttempt { get; set; } = since;

        public int Refused { get; set; }
    }
}
