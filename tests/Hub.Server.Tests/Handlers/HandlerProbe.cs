using Hub.Server.Handlers;

namespace Hub.Server.Tests.Handlers;

/// <summary>What a test handler saw: every call, in the order calls began, and every event handled (calls that completed).</summary>
public sealed class HandlerProbe
{
    private readonly Lock _gate = new();
    private readonly List<long[]> _calls = [];
    private readonly List<HubEvent> _handled = [];

    /// <summary>The sequences of each call's batch, in the order calls began (failed ones included).</summary>
    public IReadOnlyList<long[]> Calls { get { lock (_gate) { return [.. _calls]; } } }

    /// <summary>The events of the calls that completed, in the order they completed.</summary>
    public IReadOnlyList<HubEvent> Handled { get { lock (_gate) { return [.. _handled]; } } }

    /// <summary>The sequences handled, in the order they completed.</summary>
    public long[] HandledSequences { get { lock (_gate) { return [.. _handled.Select(static e => e.Sequence)]; } } }

    public void Called(IReadOnlyList<HubEvent> batch)
    {
        lock (_gate)
        {
            _calls.Add([.. batch.Select(static e => e.Sequence)]);
        }
    }

    public void Completed(IReadOnlyList<HubEvent> batch)
    {
        lock (_gate)
        {
            _handled.AddRange(batch);
        }
    }
}

/// <summary>A test's probes, one per handler name (a singleton in the test hub's services).</summary>
public sealed class HandlerProbes
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, HandlerProbe> _probes = new(StringComparer.Ordinal);

    public HandlerProbe this[string name] => _probes.GetOrAdd(name, static _ => new HandlerProbe());
}
