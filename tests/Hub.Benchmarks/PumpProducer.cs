using Hub.Stages;
using Hub.Stages.Dispatchers;

namespace Hub.Benchmarks;

/// <summary>A producer that emits consecutive numbers against demand, but only as many as the benchmark has released.</summary>
internal sealed class PumpProducer(IDispatcher<long> dispatcher) : Producer<long>(dispatcher, name: "pump")
{
    private long _pendingDemand;
    private long _budget;
    private long _next;

    /// <summary>Releases <paramref name="count"/> more events; runs on the stage's turn.</summary>
    public Task ReleaseAsync(long count) => InvokeAsync(() =>
    {
        _budget += count;
        Emit(Take());
    });

    protected override ValueTask<ReadOnlyMemory<long>> HandleDemandAsync(long demand)
    {
        _pendingDemand += demand;
        return new ValueTask<ReadOnlyMemory<long>>(Take());
    }

    private long[] Take()
    {
        long count = Math.Min(_pendingDemand, _budget);
        if (count == 0)
        {
            return [];
        }

        _pendingDemand -= count;
        _budget -= count;
        var events = new long[count];
        for (int i = 0; i < events.Length; i++)
        {
            events[i] = _next++;
        }

        return events;
    }
}
