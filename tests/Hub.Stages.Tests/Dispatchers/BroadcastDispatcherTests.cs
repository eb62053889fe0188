using Hub.Stages.Dispatchers;
using Hub.Stages.Subscriptions;
using Hub.Stages.Tests.Support;

namespace Hub.Stages.Tests.Dispatchers;

public class BroadcastDispatcherTests
{
    private static readonly SubscriptionOptions<int> Options = SubscriptionOptions<int>.Default;

    private readonly BroadcastDispatcher<int> _dispatcher = new();
    private readonly RecordingSink<int> _sink = new();

    [Fact]
    public void Ask_ForwardsTheMinimumDemandAcrossSubscribers()
    {
        _dispatcher.Subscribe(1, Options);
        _dispatcher.Subscribe(2, Options);

        Assert.Equal(0, _dispatcher.Ask(1, 10, _sink));
        Assert.Equal(10, _dispatcher.Ask(2, 20, _sink));

        _dispatcher.Dispatch(Seq.Range(0, 9), _sink, out long demand);

        Assert.Equal(0, demand);
        Assert.Equal(Seq.Range(0, 9), _sink.EventsOf(1));
        Assert.Equal(Seq.Range(0, 9), _sink.EventsOf(2));
        Assert.Equal(0, _dispatcher.Ask(2, 5, _sink));
    }

    [Fact]
    public void SubscriberWithoutDemand_BlocksTheOthers_UntilItCancels()
    {
        _dispatcher.Subscribe(3, Options);
        _dispatcher.Subscribe(1, Options);
        _dispatcher.Subscribe(2, Options);
        Assert.Equal(0, _dispatcher.Ask(1, 10, _sink));
        Assert.Equal(0, _dispatcher.Ask(2, 10, _sink));

        var leftover = _dispatcher.Dispatch(Seq.Range(0, 4), _sink, out _);
        Assert.Equal(5, leftover.Length);
        Assert.Empty(_sink.Deliveries);

        Assert.Equal(10, _dispatcher.Cancel(3));
    }

    [Fact]
    public void Selector_FilteredOutEventsAreCreditedBackAtOnce()
    {
        _dispatcher.Subscribe(1, new SubscriptionOptions<int> { Selector = x => x % 2 == 0 });
        _dispatcher.Subscribe(2, Options);
        _dispatcher.Ask(1, 4, _sink);
        Assert.Equal(4, _dispatcher.Ask(2, 8, _sink));

        _dispatcher.Dispatch(Seq.Range(0, 3), _sink, out long demand);

        Assert.Equal([0, 2], _sink.EventsOf(1));
        Assert.Equal(Seq.Range(0, 3), _sink.EventsOf(2));
        Assert.Equal(2, _dispatcher.DemandOf(1));
        Assert.Equal(2, demand);
    }

    [Fact]
    public async Task Stages_ConsumersThatNeverAskAgain_HandleDemandCalledOnceWithTheSmallerMax()
    {
        // Accumulate until both have subscribed, so both see the same first events whatever the arrival order.
        var counter = new Counter(dispatcher: new BroadcastDispatcher<int>(), options: new() { Demand = ProducerDemand.Accumulate });
        var small = new Recorder<int>("max10", blockAfterBatches: 1);
        var large = new Recorder<int>("max20", blockAfterBatches: 1);
        await Wait.For(small.SubscribeAsync(counter, new() { MaxDemand = 10, MinDemand = 0 }));
        await Wait.For(large.SubscribeAsync(counter, new() { MaxDemand = 20, MinDemand = 0 }));
        await Wait.For(counter.SetDemandModeAsync(ProducerDemand.Forward));

        await Wait.Until(() => small.EventCount == 10 && large.EventCount == 10, "both consumers receive ten events");
        await Wait.Flush(counter);

        Assert.Equal([10L], counter.Demands);
        small.Release();
        large.Release();
    }

    [Fact]
    public async Task Stages_SubscriberThatNeverAsks_BlocksOthers_UntilItCancels_ThenBothGetTheSameEvents()
    {
        var counter = new Counter(dispatcher: new BroadcastDispatcher<int>());
        var idle = new Recorder<int>("idle");
        var first = new Recorder<int>("first", blockAfterBatches: 1);
        var second = new Recorder<int>("second", blockAfterBatches: 1);
        var idleSubscription = await Wait.For(idle.SubscribeAsync(counter, new() { Demand = DemandMode.Manual }));
        await Wait.For(first.SubscribeAsync(counter, new() { MaxDemand = 10, MinDemand = 0 }));
        await Wait.For(second.SubscribeAsync(counter, new() { MaxDemand = 10, MinDemand = 0 }));
        await Wait.Flush(first, second, counter);

        Assert.Empty(first.Batches);
        Assert.Empty(second.Batches);
        Assert.Empty(counter.Demands);

        idleSubscription.Cancel();
        await Wait.Until(() => first.EventCount == 10 && second.EventCount == 10, "both receive ten events");

        Assert.Equal(Seq.Range(0, 9), first.Events);
        Assert.Equal(Seq.Range(0, 9), second.Events);
        first.Release();
        second.Release();
    }
}
