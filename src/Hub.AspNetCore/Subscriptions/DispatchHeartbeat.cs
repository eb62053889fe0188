namespace Hub.Server.Subscriptions;

/// <summary>
/// When the hub-wide dispatch loop (the <see cref="StalledSubscriptionSweeper"/>, which passes over every live stage once
/// a <see cref="StalledSubscriptionSweeper.Interval"/>) last ran. The delivery layer beats it; the readiness check
/// (<c>Health/</c>) reads it, and fails when it has not run for <see cref="Patience"/>: the loop died or the process is
/// starved.
/// </summary>
internal sealed class DispatchHeartbeat
{
    /// <summary>How long the loop may be silent before the hub is not ready (ten of its intervals).</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time;
    private long _lastTicks;

    public DispatchHeartbeat(TimeProvider time)
    {
        _time = time;
        Beat(); // the loop is given its patience from the start
    }

    /// <summary>When the loop last ran.</summary>
    public DateTimeOffset Last => new(Volatile.Read(ref _lastTicks), TimeSpan.Zero);

    /// <summary>Called by the loop on each pass.</summary>
    public void Beat() => Volatile.Write(ref _lastTicks, _time.GetUtcNow().UtcTicks);

    /// <summary>How long since the loop last ran.</summary>
    public TimeSpan Silence => _time.GetUtcNow() - Last;
}
