using System.Collections.Concurrent;
using Hub.Stages.Subscriptions;
using Hub.Stages.Tests.Support;

namespace Hub.Stages.Tests;

public class ProducerConsumerTests
{
    [Fact]
    public async Task WithoutDownstreamDemand_HandlesNoMoreEvents_SoBackPressurePassesThrough()
    {
        var counter = new Counter();
        var handled = new ConcurrentQueue<int[]>();
        var middle = StageFactory.CreateProducerConsumer<int, int>(events =>
        {
            handled.Enqueue(events.ToArray());
            return new ValueTask<ReadOnlyMemory<int>>(events.ToArray());
        });
        var blocked = new Recorder<int>("blocked", blockAfterBatches: 1);
        await Wait.For(blocked.SubscribeAsync(middle, new() { MaxDemand = 10 }));
        await Wait.For(middle.SubscribeAsync(counter, new() { MaxDemand = 10, MinDemand = 8 }));

        await Wait.Until(() => handled.Count >= 5, "the middle stage handles five pairs");
        await Wait.Flush(middle, counter, middle, counter, middle);

        Assert.Equal([[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]], handled);
        Assert.DoesNotContain(10, handled.SelectMany(batch => batch));
        blocked.Release();
    }

    [Fact]
    public async Task Transform_PassesEventsThroughToConsumers()
    {
        var counter = new Counter();
        var doubler = StageFactory.CreateProducerConsumer<int, int>(events =>
            new ValueTask<ReadOnlyMemory<int>>(events.ToArray().Select(x => x * 2).ToArray()));
        var consumer = new Recorder<int>();
        await Wait.For(consumer.SubscribeAsync(doubler, new() { MaxDemand = 10 }));
        await Wait.For(doubler.SubscribeAsync(counter, new() { MaxDemand = 4, Cancel = CancelMode.Temporary }));

        await Wait.Until(() => consumer.EventCount >= 20, "twenty events arrive");

        Assert.Equal(Seq.Range(0, 19).Select(x => x * 2), consumer.Events[..20]);
    }
}
