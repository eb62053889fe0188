using System.Runtime.InteropServices;
using Hub.Stages.Dispatchers;
using Hub.Stages.Subscriptions;
using Hub.Stages.Tests.Support;

namespace Hub.Stages.Tests.Dispatchers;

public class CursorBroadcastDispatcherTests
{
    private static readonly SubscriptionOptions<int> Options = SubscriptionOptions<int>.Default;

    private readonly RecordingSink<int> _sink = new();

    [Fact]
    public void StalledSubscriber_DoesNotHoldTheOthers()
    {
        var dispatcher = new CursorBroadcastDispatcher<int>(retention: 100);
        dispatcher.Subscribe(1, Options);
        dispatcher.Subscribe(2, Options); // never asks
        Assert.Equal(10, dispatcher.Ask(1, 10, _sink));

        var leftover = dispatcher.Dispatch(Seq.Range(0, 9), _sink, out _);

        Assert.True(leftover.IsEmpty);
        Assert.Equal(Seq.Range(0, 9), _sink.EventsOf(1));
        Assert.Empty(_sink.EventsOf(2));
        Assert.Equal(10, dispatcher.Ask(1, 10, _sink));
    }

    [Fact]
    public void ForwardedDemand_FollowsTheFastestSubscriber()
    {
        var dispatcher = new CursorBroadcastDispatcher<int>(retention: 100);
        dispatcher.Subscribe(1, Options);
        dispatcher.Subscribe(2, Options);

        Assert.Equal(5, dispatcher.Ask(1, 5, _sink));
        Assert.Equal(3, dispatcher.Ask(2, 8, _sink));   // 8 is 3 beyond the 5 already requested
        Assert.Equal(0, dispatcher.Ask(1, 2, _sink));   // 1 wants up to 7: already requested

        dispatcher.Dispatch(Seq.Range(0, 7), _sink, out long demand);

        Assert.Equal(0, demand);
        Assert.Equal(Seq.Range(0, 6), _sink.EventsOf(1));
        Assert.Equal(Seq.Range(0, 7), _sink.EventsOf(2));
    }

    [Fact]
    public void SubscriberBehind_ReceivesFromItsCursor_WhenItAsks()
    {
        var dispatcher = new CursorBroadcastDispatcher<int>(retention: 100);
        dispatcher.Subscribe(1, Options);
        dispatcher.Subscribe(2, Options);
        dispatcher.Ask(1, 10, _sink);
        dispatcher.Dispatch(Seq.Range(0, 9), _sink, out _);

        Assert.Equal(0, dispatcher.Ask(2, 4, _sink));

        Assert.Equal(Seq.Range(0, 3), _sink.EventsOf(2));
        Assert.True(dispatcher.TryGetCursor(2, out long position, out long credits));
        Assert.Equal(4, position);
        Assert.Equal(0, credits);
    }

    [Fact]
    public void Deliveries_ShareTheLogsMemory_NoCopyPerSubscriber()
    {
        var dispatcher = new CursorBroadcastDispatcher<int>(retention: 100);
        dispatcher.Subscribe(1, Options);
        dispatcher.Subscribe(2, Options);
        dispatcher.Ask(1, 10, _sink);
        dispatcher.Ask(2, 10, _sink);

        dispatcher.Dispatch(Seq.Range(0, 9), _sink, out _);

        Assert.True(MemoryMarshal.TryGetArray(_sink.Deliveries[0].Events, out ArraySegment<int> first));
        Assert.True(MemoryMarshal.TryGetArray(_sink.Deliveries[1].Events, out ArraySegment<int> second));
        Assert.Same(first.Array, second.Array);
    }

    [Fact]
    public void LogWrapsPastCursor_DropOldest_SkipsToOldestRetainedAndReportsTheGap()
    {
        var dispatcher = new CursorBroadcastDispatcher<int>(retention: 4);
        dispatcher.Subscribe(1, Options);
        dispatcher.Subscribe(2, Options);
        dispatcher.Ask(1, 100, _sink);

        dispatcher.Dispatch(Seq.Range(0, 5), _sink, out _);

        Assert.Equal([(2L, 0L, 2L)], _sink.Gaps);
        dispatcher.Ask(2, 10, _sink);
        Assert.Equal(Seq.Range(2, 5), _sink.EventsOf(2));
        Assert.Equal(Seq.Range(0, 5), _sink.EventsOf(1));
        Assert.Equal(2, dispatcher.Tail);
        Assert.Equal(6, dispatcher.Head);
    }

    [Fact]
    public void LogWrapsPastCursor_Disconnect_RemovesTheSubscriberAndReportsIt()
    {
        var dispatcher = new CursorBroadcastDispatcher<int>(retention: 4);
        dispatcher.Subscribe(1, Options);
        dispatcher.Subscribe(2, new SubscriptionOptions<int> { Overflow = OverflowPolicy.Disconnect });
        dispatcher.Ask(1, 100, _sink);

        dispatcher.Dispatch(Seq.Range(0, 3), _sink, out _);
        Assert.Empty(_sink.Disconnects);
        dispatcher.Dispatch(new[] { 4 }, _sink, out _);

        Assert.Equal([(2L, 0L, 1L)], _sink.Disconnects);
        Assert.Equal(1, dispatcher.SubscriberCount);
        Assert.False(dispatcher.TryGetCursor(2, out _, out _));
        Assert.Equal(0, dispatcher.Ask(2, 10, _sink));
    }

    [Fact]
    public void Selector_CreditsBackFilteredEvents_AndForwardsDemandForThem()
    {
        var dispatcher = new CursorBroadcastDispatcher<int>(retention: 100);
        dispatcher.Subscribe(1, new SubscriptionOptions<int> { Selector = x => x % 2 == 0 });
        Assert.Equal(3, dispatcher.Ask(1, 3, _sink));

        dispatcher.Dispatch(Seq.Range(0, 2), _sink, out long demand);

        Assert.Equal([0, 2], _sink.EventsOf(1));
        Assert.True(dispatcher.TryGetCursor(1, out long position, out long credits));
        Assert.Equal(3, position);
        Assert.Equal(1, credits);
        Assert.Equal(1, demand);
    }

    [Fact]
    public void Dispatch_WithoutSubscribers_PlacesNothing()
    {
        var dispatcher = new CursorBroadcastDispatcher<int>();

        var leftover = dispatcher.Dispatch(Seq.Range(0, 2), _sink, out long demand);

        Assert.Equal(3, leftover.Length);
        Assert.Equal(0, demand);
        Assert.Equal(0, dispatcher.Head);
    }

    [Fact]
    public void LongRun_AcrossManyChunks_DeliversEveryEventInOrder()
    {
        var dispatcher = new CursorBroadcastDispatcher<int>(retention: 3000);
        dispatcher.Subscribe(1, Options);
        long requested = dispatcher.Ask(1, 700, _sink);
        int next = 0;
        while (next < 10_000)
        {
            int count = (int)Math.Min(requested, 10_000 - next);
            dispatcher.Dispatch(Seq.Range(next, next + count - 1), _sink, out _);
            next += count;
            requested = dispatcher.Ask(1, count, _sink);
        }

        Assert.Equal(Seq.Range(0, 9999), _sink.EventsOf(1));
        Assert.True(dispatcher.Head - dispatcher.Tail <= 3000);
    }

    [Fact]
    public async Task Stages_StalledConsumer_DoesNotStallTheOthers_AndSeesAGap()
    {
        var producer = new Counter(dispatcher: new CursorBroadcastDispatcher<int>(retention: 50));
        var stalled = new Recorder<int>("stalled");
        var fast = new Recorder<int>("fast");
        var stalledSubscription = await Wait.For(stalled.SubscribeAsync(producer, new() { Demand = DemandMode.Manual }));
        stalledSubscription.Ask(5);
        await Wait.Until(() => stalled.EventCount == 5, "the stalled consumer gets its first five");
        await Wait.For(fast.SubscribeAsync(producer, new() { MaxDemand = 20 }));

        await Wait.Until(() => fast.EventCount >= 1000 && !stalled.Gaps.IsEmpty, "the fast consumer runs on and the stalled one sees a gap");

        Assert.Equal(5, stalled.Gaps.First().From);
        Assert.Equal(Seq.Range(0, 4), stalled.Events);
        int[] fastEvents = fast.Events;
        Assert.Equal(Seq.Range(fastEvents[0], fastEvents[0] + fastEvents.Length - 1), fastEvents);
        fast.Stop();
    }

    [Fact]
    public async Task Stages_DisconnectPolicy_EndsTheLaggingSubscriptionWithOverflow()
    {
        var producer = new Counter(dispatcher: new CursorBroadcastDispatcher<int>(retention: 50, OverflowPolicy.Disconnect));
        var stalled = new Recorder<int>("stalled");
        var fast = new Recorder<int>("fast");
        var stalledSubscription = await Wait.For(stalled.SubscribeAsync(producer, new() { Demand = DemandMode.Manual, Cancel = CancelMode.Temporary }));
        await Wait.For(fast.SubscribeAsync(producer, new() { MaxDemand = 20 }));

        Assert.Same(StageExitReason.Overflow, await Wait.For(stalledSubscription.Ended));
        Assert.True(stalled.IsRunning);
        fast.Stop();
    }
}
