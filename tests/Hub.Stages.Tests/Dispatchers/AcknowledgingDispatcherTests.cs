using Hub.Stages.Dispatchers;
using Hub.Stages.Subscriptions;
using Hub.Stages.Tests.Support;

namespace Hub.Stages.Tests.Dispatchers;

/// <summary>
/// Acknowledgements and redelivery around the demand and partition dispatchers, driven directly as gen_stage drives its
/// dispatchers: what a subscriber holds, what an ask acknowledges, what comes back when it leaves and where it goes.
/// </summary>
public class AcknowledgingDispatcherTests
{
    private readonly RecordingSink<Ev> _sink = new();

    private static Ev[] Evs(int first, int last) => [.. Seq.Range(first, last).Select(n => new Ev(n))];

    private static int[] Values(IEnumerable<Ev> events) => [.. events.Select(e => e.Value)];

    private static AcknowledgingDispatcher<Ev> OverDemand() => new(new DemandDispatcher<Ev>(), e => e with { Redelivered = true });

    /// <summary>Partitions by value modulo <paramref name="partitions"/>, dealt over the subscribers, batches in value order.</summary>
    private static AcknowledgingDispatcher<Ev> OverPartitions(int partitions = 2) => new(
        new PartitionDispatcher<Ev>(partitions, e => e.Value % partitions, dealPartitions: true, order: Comparer<Ev>.Create((x, y) => x.Value.CompareTo(y.Value))),
        e => e with { Redelivered = true });

    [Fact]
    public void Ask_AcknowledgesTheSubscribersOldestInFlight_ThenAddsToItsDemand()
    {
        var dispatcher = OverDemand();
        dispatcher.Subscribe(1, SubscriptionOptions<Ev>.Default);
        dispatcher.Ask(1, 4, _sink);
        dispatcher.Dispatch(Evs(1, 6), _sink, out _);
        Assert.Equal([1, 2, 3, 4], Values(_sink.EventsOf(1)));
        Assert.Equal(4, dispatcher.InFlightOf(1));

        dispatcher.Ask(1, 3, _sink);

        Assert.Equal([1, 2, 3], Values(_sink.AcknowledgedBy(1)));
        Assert.Equal([4], Values(dispatcher.InFlightEventsOf(1)));
        var leftover = dispatcher.Dispatch(Evs(5, 9), _sink, out _);
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], Values(_sink.EventsOf(1)));
        Assert.Equal([8, 9], Values(leftover.ToArray()));
        Assert.Equal(4, dispatcher.InFlight);
    }

    [Fact]
    public void Ask_ForMoreThanItHolds_AcknowledgesWhatThereIs_AndGrantsTheWholeCount()
    {
        var dispatcher = OverDemand();
        dispatcher.Subscribe(1, SubscriptionOptions<Ev>.Default);
        dispatcher.Ask(1, 2, _sink);
        dispatcher.Dispatch(Evs(1, 2), _sink, out _);

        dispatcher.Ask(1, 10, _sink);

        Assert.Equal([1, 2], Values(_sink.AcknowledgedBy(1)));
        Assert.Equal(0, dispatcher.InFlight);
        Assert.Equal(10, ((DemandDispatcher<Ev>)dispatcher.Inner).DemandOf(1));
    }

    [Fact]
    public void Cancel_OverDemand_ReturnsTheUnacknowledged_MarkedRedelivered_InTheOrderHanded_ForTheOwnerToDispatchFirst()
    {
        var dispatcher = OverDemand();
        dispatcher.Subscribe(1, SubscriptionOptions<Ev>.Default);
        dispatcher.Subscribe(2, SubscriptionOptions<Ev>.Default);
        dispatcher.Ask(1, 4, _sink);
        dispatcher.Dispatch(Evs(1, 4), _sink, out _);
        dispatcher.Ask(1, 1, _sink); // acknowledges 1

        var returned = dispatcher.Cancel(1, out _).ToArray();

        Assert.Equal([new Ev(2, true), new Ev(3, true), new Ev(4, true)], returned);
        Assert.Equal(0, dispatcher.InFlight);
        dispatcher.Ask(2, 10, _sink);
        dispatcher.Dispatch(returned.Concat(Evs(5, 6)).ToArray(), _sink, out _);
        Assert.Equal([new Ev(2, true), new Ev(3, true), new Ev(4, true), new Ev(5), new Ev(6)], _sink.EventsOf(2));
    }

    [Fact]
    public void Cancel_OfASubscriberHoldingNothing_ReturnsNothing_AndUnknownIdsAreIgnored()
    {
        var dispatcher = OverDemand();
        dispatcher.Subscribe(1, SubscriptionOptions<Ev>.Default);

        Assert.True(dispatcher.Cancel(1, out _).IsEmpty);
        Assert.True(dispatcher.Cancel(7, out _).IsEmpty);
        Assert.Equal(0, dispatcher.Ask(7, 5, _sink));
    }

    [Fact]
    public void Partition_ManyPartitionsPerSubscriber_DealtRoundRobin_OneMergedBatchInOrder()
    {
        var dispatcher = OverPartitions(partitions: 4);
        dispatcher.Subscribe(1, SubscriptionOptions<Ev>.Default);
        dispatcher.Subscribe(2, SubscriptionOptions<Ev>.Default);
        dispatcher.Ask(1, 100, _sink);
        dispatcher.Ask(2, 100, _sink);

        dispatcher.Dispatch(Evs(1, 12), _sink, out _);

        // Partitions 0 and 2 are the first subscriber's, 1 and 3 the second's: each gets one batch, in value order.
        Assert.Equal([[2, 4, 6, 8, 10, 12]], _sink.BatchesOf(1).Select(Values));
        Assert.Equal([[1, 3, 5, 7, 9, 11]], _sink.BatchesOf(2).Select(Values));
        var inner = (PartitionDispatcher<Ev>)dispatcher.Inner;
        Assert.Equal([1L, 2L, 1L, 2L], Enumerable.Range(0, 4).Select(p => inner.SubscriberOf(p)));
    }

    [Fact]
    public void Partition_DealtToANewSubscriber_WaitsUntilItsEventsAreAcknowledged_ThenMoves()
    {
        var dispatcher = OverPartitions();
        dispatcher.Subscribe(1, SubscriptionOptions<Ev>.Default);
        dispatcher.Ask(1, 100, _sink);
        dispatcher.Dispatch(new[] { new Ev(1), new Ev(3) }, _sink, out _); // both partition 1, held by 1

        dispatcher.Subscribe(2, SubscriptionOptions<Ev>.Default); // partition 1 is now dealt to 2
        dispatcher.Ask(2, 100, _sink);
        _sink.Clear();
        dispatcher.Dispatch(new[] { new Ev(5), new Ev(7) }, _sink, out _);
        Assert.Empty(_sink.Deliveries); // 1 still holds 1 and 3: the partition waits

        dispatcher.Ask(1, 1, _sink); // acknowledges 1; 3 is still held
        Assert.Empty(_sink.Deliveries);

        dispatcher.Ask(1, 1, _sink); // acknowledges 3: the partition moves
        Assert.Equal([5, 7], Values(_sink.EventsOf(2)));
        Assert.Empty(_sink.EventsOf(1));
    }

    [Fact]
    public void Partition_ASubscriberThatLeaves_ItsEventsGoFirst_ToTheNewOwner_MarkedRedelivered_AheadOfQueuedOnes()
    {
        var dispatcher = OverPartitions();
        dispatcher.Subscribe(1, SubscriptionOptions<Ev>.Default);
        dispatcher.Subscribe(2, SubscriptionOptions<Ev>.Default);
        dispatcher.Ask(1, 2, _sink);
        dispatcher.Ask(2, 2, _sink);
        dispatcher.Dispatch(Evs(1, 8).Where(e => e.Value % 2 == 1).ToArray(), _sink, out _); // 2 holds 1 and 3; 5 and 7 queue
        Assert.Equal([1, 3], Values(_sink.EventsOf(2)));

        Assert.True(dispatcher.Cancel(2, out _).IsEmpty); // the partition dispatcher queues them again itself
        _sink.Clear();
        dispatcher.Ask(1, 10, _sink);

        Assert.Equal([new Ev(1, true), new Ev(3, true), new Ev(5), new Ev(7)], _sink.EventsOf(1));
    }

    [Fact]
    public void Partition_BatchLimit_AndASubscriberThatCannotTake_HoldItsPartitions_WhileTheOthersGoOn()
    {
        var dispatcher = new AcknowledgingDispatcher<Ev>(
            new PartitionDispatcher<Ev>(2, e => e.Value % 2, dealPartitions: true, batchLimit: new BatchLimit<Ev>(_ => 10, 30)),
            e => e with { Redelivered = true });
        dispatcher.Subscribe(1, SubscriptionOptions<Ev>.Default);
        dispatcher.Subscribe(2, SubscriptionOptions<Ev>.Default);
        _sink.CannotTake.Add(1);
        dispatcher.Ask(1, 100, _sink);
        dispatcher.Ask(2, 100, _sink);

        dispatcher.Dispatch(Evs(1, 10), _sink, out _);

        Assert.Equal([[1, 3, 5]], _sink.BatchesOf(2).Select(Values)); // 3 events of size 10 fill a batch of 30
        Assert.Empty(_sink.EventsOf(1));
        _sink.CannotTake.Clear();
        dispatcher.Dispatch(Array.Empty<Ev>(), _sink, out _);
        Assert.Equal([2, 4, 6], Values(_sink.EventsOf(1)));
        Assert.Equal([1, 3, 5, 7, 9], Values(_sink.EventsOf(2)));
    }

    public readonly record struct Ev(int Value, bool Redelivered = false);
}
