namespace Hub.Server.Tests.Infrastructure;

/// <summary>
/// A clock that moves only when the test moves it. Timers still run on real time (the base class's), so a log that
/// enforces something in the background on a timer keeps running; it just sees the test's "now" when it looks.
/// </summary>
public sealed class ManualTimeProvider : TimeProvider
{
    private readonly Lock _gate = new();
    private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public void Advance(TimeSpan by)
    {
        lock (_gate)
        {
            _now += by;
        }
    }

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }
}
