using System.Collections.Concurrent;
using Hub.Stages.Dispatchers;

namespace Hub.Stages.Tests.Support;

/// <summary>GenStage's test Counter: emits exactly <c>demand</c> consecutive integers from a start value; records each demand.</summary>
internal sealed class Counter(int start = 0, IDispatcher<int>? dispatcher = null, ProducerOptions? options = null)
    : Producer<int>(dispatcher, options, "counter")
{
    private int _next = start;

    public ConcurrentQueue<long> Demands { get; } = new();

    protected override ValueTask<ReadOnlyMemory<int>> HandleDemandAsync(long demand)
    {
        Demands.Enqueue(demand);
        var events = new int[demand];
        for (int i = 0; i < events.Length; i++)
        {
            events[i] = _next++;
        }

        return new ValueTask<ReadOnlyMemory<int>>(events);
    }
}
