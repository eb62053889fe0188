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
    public void KeptEvents_GoFirst_BeforeLaterOnes_InTheirOrder()
    {
        var dispatcher = new PartitionDispatcher<int>(2, x => x % 2);
        dispatcher.Subscribe(1, new SubscriptionOptions<int> { Partition = 0 });
        dispatcher.Subscribe(2, new SubscriptionOptions<int> { Partition = 1 });
        dispatcher.Ask(2, 10, _sink);
        dispatcher.Dispatch(Seq.Range(1, 8), _sink, out _);
        Assert.Equal(4, dispatcher.QueuedIn(0));
        _sink.Clear();

        Assert.Equal(0, dispatcher.Ask(1, 3, _sink)); // served from its queue: nothing more is needed upstream
        Assert.Equal([2, 4, 6], _sink.EventsOf(1));
        Assert.Equal(1, dispatcher.QueuedIn(0));
        dispatcher.Ask(1, 3, _sink);
        dispatcher.Dispatch(Seq.Range(10, 13), _sink, out _);

        Assert.Equal([2, 4, 6, 8, 10, 12], _sink.EventsOf(1));
        Assert.Equal([11, 13], _sink.EventsOf(2));
    }

    [Fact]
    public void EventsQueuedForAnIdlePartition_HaveTheirDemandAskedForAgain_SoTheOthersKeepFlowing()
    {
        var dispatcher = new PartitionDispatcher<int>(2, x => x % 2);
        dispatcher.Subscribe(1, new SubscriptionOptions<int> { Partition = 0 });
        dispatcher.Subscribe(2, new SubscriptionOptions<int> { Partition = 1 });
        Assert.Equal(10, dispatcher.Ask(2, 10, _sink));

        dispatcher.Dispatch(Seq.Range(1, 10), _sink, out long demand);

        // Odd took 5 of its 10; the 5 even events used demand odd asked for, so 5 more are asked for.
        Assert.Equal([1, 3, 5, 7, 9], _sink.EventsOf(2));
        Assert.Equal(5, demand);
        dispatcher.Dispatch(Seq.Range(11, 15), _sink, out demand);
        Assert.Equal([1, 3, 5, 7, 9, 11, 13, 15], _sink.EventsOf(2));
        Assert.Equal(2, demand);
    }

    [Fact]
    public void QueueAtItsBound_StopsUpstreamDemand_UntilThePartitionTakesFromIt()
    {
        var dispatcher = new PartitionDispatcher<int>(2, x => x % 2, maxQueued: 3);
        dispatcher.Subscribe(1, new SubscriptionOptions<int> { Partition = 0 });
        dispatcher.Subscribe(2, new SubscriptionOptions<int> { Partition = 1 });
        dispatcher.Ask(2, 10, _sink);

        dispatcher.Dispatch(Seq.Range(1, 6), _sink, out long demand);

        Assert.Equal(3, dispatcher.QueuedIn(0));
        Assert.Equal(0, demand);
        Assert.Equal(0, dispatcher.Ask(2, 5, _sink));

        // Below its bound again: the odd partition's unmet 12 less the 4 in flight goes upstream.
        Assert.Equal(8, dispatcher.Ask(1, 1, _sink));
        Assert.Equal([2], _sink.EventsOf(1));
        Assert.Equal(2, dispatcher.QueuedIn(0));
        Assert.Equal(1, dispatcher.Ask(1, 3, _sink));
        Assert.Equal([2, 4, 6], _sink.EventsOf(1));
    }

    [Fact]
    public void Cancel_KeepsThePartitionsQueuedEvents_ForItsNextSubscriber()
    {
        var dispatcher = new PartitionDispatcher<int>(2, x => x % 2);
        dispatcher.Subscribe(1, new SubscriptionOptions<int> { Partition = 0 });
        dispatcher.Subscribe(2, new SubscriptionOptions<int> { Partition = 1 });
        dispatcher.Ask(2, 4, _sink);
        dispatcher.Dispatch(Seq.Range(1, 4), _sink, out _);

        Assert.Equal(0, dispatcher.Cancel(1));
        dispatcher.Subscribe(3, new SubscriptionOptions<int> { Partition = 0 });
        _sink.Clear();
        dispatcher.Ask(3, 5, _sink);

        Assert.Equal([2, 4], _sink.EventsOf(3));
    }

    [Fact]
    public void HashThatDropsEverything_PlacesNothing_AndKeepsTheDemand()
    {
        var dispatcher = new PartitionDispatcher<int>(2, _ => null);
        dispatcher.Subscribe(1, new SubscriptionOptions<int> { Partition = 0 });
        dispatcher.Ask(1, 3, _sink);

        var leftover = dispatcher.Dispatch(Seq.Range(1, 10), _sink, out _);

        Assert.True(leftover.IsEmpty);
        Assert.Empty(_sink.Deliveries);
        dispatcher.Dispatch(new[] { 2 }, _sink, out _);
        Assert.Empty(_sink.Deliveries);
    }

    [Fact]
    public void HashOutOfRange_Throws_NamingThePartitionsAllowed()
    {
        var dispatcher = new PartitionDispatcher<int>(2, x => x);
        dispatcher.Subscribe(1, new SubscriptionOptions<int> { Partition = 0 });
        dispatcher.Ask(1, 3, _sink);

        var error = Assert.Throws<InvalidOperationException>(() => dispatcher.Dispatch(new[] { 5 }, _sink, out _));

        Assert.Contains("partition 5; partitions are 0 to 1", error.Message, StringComparison.Ordinal);
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

    [Fact]
    public async Task Stages_PartitionWithoutDemand_DoesNotStallTheOthers_AndGetsItsKeptEventsFirstWhenItAsks()
    {
        var counter = new Counter(dispatcher: new PartitionDispatcher<int>(2, x => x % 2));
        var idle = new Recorder<int>("even, manual");
        var odd = new Recorder<int>("odd");
        var even = await Wait.For(idle.SubscribeAsync(counter, new() { Partition = 0, Demand = DemandMode.Manual }));
        await Wait.For(odd.SubscribeAsync(counter, new() { Partition = 1, MaxDemand = 10 }));

        await Wait.Until(() => odd.EventCount >= 50, "the odd partition keeps receiving");
        Assert.Empty(idle.Batches);

        even.Ask(3);
        await Wait.Until(() => idle.EventCount == 3, "the even partition receives what was kept for it");

        Assert.Equal([0, 2, 4], idle.Events);
        Assert.All(odd.Events, x => Assert.Equal(1, x % 2));
        odd.Stop();
    }

    [Fact]
    public async Task Stages_HashThatDrops_DroppedEventsReachNoOne()
    {
        var counter = new Counter(dispatcher: new PartitionDispatcher<int>(2, x => x % 3 == 0 ? null : x % 2));
        var even = new Recorder<int>("even");
        var odd = new Recorder<int>("odd");
        await Wait.For(even.SubscribeAsync(counter, new() { Partition = 0, MaxDemand = 20 }));
        await Wait.For(odd.SubscribeAsync(counter, new() { Partition = 1, MaxDemand = 20 }));

        await Wait.Until(() => even.EventCount >= 8 && odd.EventCount >= 8, "both partitions receive events");

        Assert.Equal([2, 4, 8, 10, 14, 16, 20, 22], even.Events[..8]);
        Assert.Equal([1, 5, 7, 11, 13, 17, 19, 23], odd.Events[..8]);
        even.Stop();
        odd.Stop();
    }
}
