using Hub.Server.Handlers;

namespace Hub.Server.Tests.Handlers;

/// <summary>What <see cref="KeyedHandler"/> saw: each key's events in the order handled, how many batches ran at once, and
/// any key found in two batches at once.</summary>
public sealed class KeyedState
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _active = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<long>> _byKey = new(StringComparer.Ordinal);
    private readonly List<string> _violations = [];
    private readonly TaskCompletionSource _twoAtOnce = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _running;

    public int MaxRunning { get; private set; }

    public Task TwoAtOnce => _twoAtOnce.Task;

    public IReadOnlyList<string> Violations { get { lock (_gate) { return [.. _violations]; } } }

    public Dictionary<string, long[]> ByKey { get { lock (_gate) { return _byKey.ToDictionary(static k => k.Key, static k => k.Value.ToArray()); } } }

    public int Count { get { lock (_gate) { return _byKey.Values.Sum(static l => l.Count); } } }

    public void Begin(IReadOnlyList<HubEvent> batch)
    {
        bool two;
        lock (_gate)
        {
            foreach (var key in batch.Select(static e => e.Key!).Distinct())
            {
                if (!_active.Add(key))
                {
                    _violations.Add($"key {key} in two batches at once (batch from {batch[0].Sequence})");
                }
            }

            _running++;
            MaxRunning = Math.Max(MaxRunning, _running);
            two = _running >= 2;
        }

        if (two)
        {
            _twoAtOnce.TrySetResult();
        }
    }

    public void End(IReadOnlyList<HubEvent> batch)
    {
        lock (_gate)
        {
            foreach (var e in batch)
            {
                if (!_byKey.TryGetValue(e.Key!, out var list))
                {
                    _byKey[e.Key!] = list = [];
                }

                list.Add(e.Sequence);
            }

            foreach (var key in batch.Select(static e => e.Key!).Distinct())
            {
                _active.Remove(key);
            }

            _running--;
        }
    }
}

/// <summary>Records each key's events; its first batches wait (bounded) until two run at once, so parallelism shows.</summary>
public sealed class KeyedHandler(KeyedState state) : IEventHandler
{
    public const string Name = "keyed";

    public async Task HandleAsync(IReadOnlyList<HubEvent> batch, CancellationToken cancellationToken)
    {
        state.Begin(batch);
        try
        {
            await state.TwoAtOnce.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
        }
        catch (TimeoutException)
        {
            // Only one lane had work: the test's MaxRunning assertion says so.
        }

        state.End(batch);
    }
}
