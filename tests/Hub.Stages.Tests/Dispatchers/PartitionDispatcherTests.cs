using Hub.Stages.Dispatchers;
using Hub.Stages.Subscriptions;
using Hub.Stages.Tests.Support;

namespace Hub.Stages.Tests.Dispatchers;

public class PartitionDispatcherTests
{
    private readonly RecordingSink<int> _sink = new();

    private static PartitionDispatcher<int> EvenOddDroppingMultiplesOf3() =>
        new(2, x => x % 3 == 0 ? null : x % 2);

    [Fact]
    public void Dispatch_RoutesByHash_DroppedEventsUseNoDemand_AndTheRestGoBack()
    {
        var dispatcher = EvenOddDroppingMultiplesOf3();
        dispatcher.Subscribe(1, new SubscriptionOptions<int> { Partition = 0 });
        dispatcher.Subscribe(2, new SubscriptionOptions<int> { Partition = 1 });
        Assert.Equal(4, dispatcher.Ask(1, 4, _sink));
        Assert.Equal(4, dispatcher.Ask(2, 4, _sink));

        var leftover = dispatcher.Dispatch(Seq.Range(1, 12), _sink, out _);

        Assert.Equal([2, 4, 8, 10], _sink.EventsOf(1));
        Assert.Equal([1, 5, 7, 11], _sink.EventsOf(2));
        Assert.Equal([12], leftover.ToArray());
    }

    [Fact]
    public void PartitionWithoutDemand_DoesNotStallOthers_ItsEventsWaitAndGoFirstWhenItAsks()
    {
        var dispatcher = new PartitionDispatcher<int>(2, x => x % 2);
        dispatcher.Subscribe(1, new SubscriptionOptions<int> { Partition = 0 });
        dispatcher.Subscribe(2, new SubscriptionOptions<int> { Partition = 1 });
        dispatcher.Ask(2, 4, _sink);

        dispatcher.Dispatch(Seq.Range(1, 4), _sink, out _);

        Assert.Equal([1, 3], _sink.EventsOf(2));
        Assert.Equal(2, dispatcher.QueuedIn(0));
        _sink.Clear();
        dispatcher.Ask(1, 1, _sink);
        Assert.Equal([2], _sink.EventsOf(1));
    }

    [Fact]
    public void Subscribe_ToATakenOrMissingPartition_Throws()
    {
        var dispatcher = new PartitionDispatcher<int>(2);
        dispatcher.Subscribe(1, new SubscriptionOptions<int> { Partition = 0 });

        Assert.Throws<ArgumentException>(() => dispatcher.Subscribe(2, new SubscriptionOptions<int> { Partition = 0 }));
        Assert.Throws<ArgumentException>(() => dispatcher.Subscribe(3, new SubscriptionOptions<int> { Partition = 2 }));
        Assert.Throws<ArgumentException>(() => dispatcher.Subscribe(4, SubscriptionOptions<int>.Default));
    }

    [Fact]
    public async Task Stages_SubscribingToATakenPartition_FailsTheCall_AndBothStagesKeepRunning()
    {
        var counter = new Counter(dispatcher: new PartitionDispatcher<int>(2));
        await Wait.For(new Recorder<int>("first").SubscribeAsync(counter, new() { Partition = 0 }));
        var second = new Recorder<int>("second");

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Wait.For(second.SubscribeAsync(counter, new() { Partition = 0 })));

        Assert.Contains("Partition 0 already has a subscriber", error.Message, StringComparison.Ordinal);
        await Wait.Flush(second, counter);
        Assert.True(second.IsRunning);
        Assert.True(counter.IsRunning);
    }

    [Fact]
    public async Task Stages_EachPartitionConsumerGetsItsOwnEvents()
    {
        var counter = new Counter(dispatcher: new PartitionDispatcher<int>(2, x => x % 2));
        var even = new Recorder<int>("even");
        var odd = new Recorder<int>("odd");
        await Wait.For(even.SubscribeAsync(counter, new() { Partition = 0, MaxDemand = 10 }));
        await Wait.For(odd.SubscribeAsync(counter, new() { Partition = 1, MaxDemand = 10 }));

        await Wait.Until(() => even.EventCount >= 20 && odd.EventCount >= 20, "both partitions receive events");

        Assert.All(even.Events, x => Assert.Equal(0, x % 2));
        Assert.All(odd.Events, x => Assert.Equal(1, x % 2));
        even.Stop();
        odd.Stop();
    }
}
