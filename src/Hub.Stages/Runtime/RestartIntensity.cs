using System.Diagnostics;

namespace Hub.Stages.Runtime;

/// <summary>
/// OTP's restart intensity: at most <c>maxRestarts</c> restarts within any <c>maxSeconds</c>. Not thread-safe; the
/// supervisor serialises calls. Time comes from a <see cref="TimeProvider"/>, so tests can drive it.
/// </summary>
internal sealed class RestartIntensity(int maxRestarts, int maxSeconds, TimeProvider time)
{
    private readonly Queue<long> _restarts = new();
    private readonly TimeSpan _window = TimeSpan.FromSeconds(maxSeconds);

    /// <summary>Restarts within the window, as of the last call.</summary>
    public int Count => _restarts.Count;

    /// <summary>Records a restart now; false when it is one too many (the supervisor must stop).</summary>
    public bool TryAdd()
    {
        long now = time.GetTimestamp();
        while (_restarts.Count > 0 && time.GetElapsedTime(_restarts.Peek(), now) > _window)
        {
            _restarts.Dequeue();
        }

        _restarts.Enqueue(now);
        AssertInvariants();
        return _restarts.Count <= maxRestarts;
    }

    [Conditional("DEBUG")]
    private void AssertInvariants() => Debug.Assert(_restarts.Count <= maxRestarts + 1, "the window holds at most one restart too many");
}
