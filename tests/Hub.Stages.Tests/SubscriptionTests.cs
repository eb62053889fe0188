using Hub.Stages.Dispatchers;
using Hub.Stages.Subscriptions;
using Hub.Stages.Tests.Support;

namespace Hub.Stages.Tests;

public class SubscriptionTests
{
    [Fact]
    public async Task Cancel_EndsBothSides_DispatcherForgetsAndCancelCallbackRuns()
    {
        var dispatcher = new DemandDispatcher<int>();
        var counter = new Counter(dispatcher: dispatcher);
        var consumer = new Recorder<int>();
        var subscription = await Wait.For(consumer.SubscribeAsync(counter, new() { Cancel = CancelMode.Temporary, MaxDemand = 10 }));
        await Wait.Until(() => consumer.EventCount >= 10, "events arrive");

        subscription.Cancel(StageExitReason.Shutdown);

        Assert.Same(StageExitReason.Shutdown, await Wait.For(subscription.Ended));
        await Wait.Flush(counter);
        Assert.Equal(0, dispatcher.SubscriberCount);
        Assert.Equal([(subscription.Id, StageExitReason.Shutdown)], consumer.Cancels);
        Assert.True(consumer.IsRunning);
    }

    [Fact]
    public async Task Dispose_CancelsWithNormalReason_AndPermanentConsumerStops()
    {
        var counter = new Counter();
        var consumer = new Recorder<int>();
        var subscription = await Wait.For(consumer.SubscribeAsync(counter));

        subscription.Dispose();

        Assert.Same(StageExitReason.Normal, await Wait.For(subscription.Ended));
        Assert.Same(StageExitReason.Normal, await Wait.For(consumer.Completion));
        Assert.True(counter.IsRunning);
    }

    [Fact]
    public async Task Subscribe_ToStoppedProducer_Permanent_StopsTheConsumer()
    {
        var counter = new Counter();
        counter.Stop();
        await Wait.For(counter.Completion);
        var consumer = new Recorder<int>();

        var subscription = await Wait.For(consumer.SubscribeAsync(counter));

        Assert.Same(StageExitReason.NoProducer, await Wait.For(subscription.Ended));
        Assert.Same(StageExitReason.NoProducer, await Wait.For(consumer.Completion));
    }

    [Fact]
    public async Task Subscribe_ToStoppedProducer_Temporary_KeepsTheConsumerRunning()
    {
        var counter = new Counter();
        counter.Stop();
        await Wait.For(counter.Completion);
        var consumer = new Recorder<int>();

        var subscription = await Wait.For(consumer.SubscribeAsync(counter, new() { Cancel = CancelMode.Temporary }));

        Assert.Same(StageExitReason.NoProducer, await Wait.For(subscription.Ended));
        Assert.Single(consumer.Cancels);
        Assert.True(consumer.IsRunning);
    }

    [Fact]
    public async Task Transient_CancelWithNormalReason_ConsumerSurvives()
    {
        var consumer = new Recorder<int>();
        var subscription = await Wait.For(consumer.SubscribeAsync(new Counter(), new() { Cancel = CancelMode.Transient }));

        subscription.Cancel(StageExitReason.Normal);
        await Wait.For(subscription.Ended);
        await Wait.Flush(consumer);

        Assert.True(consumer.IsRunning);
    }

    [Fact]
    public async Task Transient_CancelWithAbnormalReason_ConsumerStopsWithThatReason()
    {
        var consumer = new Recorder<int>();
        var subscription = await Wait.For(consumer.SubscribeAsync(new Counter(), new() { Cancel = CancelMode.Transient }));
        var reason = StageExitReason.Custom("oops");

        subscription.Cancel(reason);

        Assert.Same(reason, await Wait.For(consumer.Completion));
        Assert.Equal([(subscription.Id, reason)], consumer.Cancels);
    }

    [Fact]
    public async Task ProducerStopped_CancelCallbackSeesReason_TemporarySurvives_PermanentStops()
    {
        var counter = new Counter();
        var temporary = new Recorder<int>("temporary");
        var permanent = new Recorder<int>("permanent");
        await Wait.For(temporary.SubscribeAsync(counter, new() { Cancel = CancelMode.Temporary }));
        await Wait.For(permanent.SubscribeAsync(counter));
        var killed = StageExitReason.Custom("killed");

        counter.Stop(killed);

        Assert.Same(killed, await Wait.For(permanent.Completion));
        await Wait.Until(() => !temporary.Cancels.IsEmpty, "the temporary consumer sees the cancel");
        Assert.Same(killed, temporary.Cancels.Single().Reason);
        Assert.Same(killed, permanent.Cancels.Single().Reason);
        Assert.True(temporary.IsRunning);
    }

    [Fact]
    public async Task ConsumerStopped_ProducerForgetsTheSubscriber()
    {
        var dispatcher = new DemandDispatcher<int>();
        var counter = new Counter(dispatcher: dispatcher);
        var consumer = new Recorder<int>();
        var subscription = await Wait.For(consumer.SubscribeAsync(counter));

        consumer.Stop(StageExitReason.Shutdown);

        Assert.Same(StageExitReason.Shutdown, await Wait.For(subscription.Ended));
        await Wait.Flush(counter);
        Assert.Equal(0, dispatcher.SubscriberCount);
        Assert.Empty(consumer.Cancels);
    }

    [Fact]
    public async Task Subscribe_ToStoppedProducer_Transient_StopsTheConsumer()
    {
        var counter = new Counter();
        counter.Stop();
        await Wait.For(counter.Completion);
        var consumer = new Recorder<int>();

        await Wait.For(consumer.SubscribeAsync(counter, new() { Cancel = CancelMode.Transient }));

        Assert.Same(StageExitReason.NoProducer, await Wait.For(consumer.Completion));
    }

    [Fact]
    public async Task Transient_ProducerStopsNormally_ConsumerSurvives_ProducerFails_ConsumerStops()
    {
        var orderly = new Counter();
        var failing = new Counter();
        var consumer = new Recorder<int>();
        var first = await Wait.For(consumer.SubscribeAsync(orderly, new() { Cancel = CancelMode.Transient }));
        var second = await Wait.For(consumer.SubscribeAsync(failing, new() { Cancel = CancelMode.Transient }));

        orderly.Stop(StageExitReason.Shutdown);
        Assert.Same(StageExitReason.Shutdown, await Wait.For(first.Ended));
        await Wait.Flush(consumer);
        Assert.True(consumer.IsRunning);

        var crash = StageExitReason.Error(new InvalidOperationException("crash"));
        failing.Stop(crash);

        Assert.Same(crash, await Wait.For(consumer.Completion));
        Assert.Same(crash, await Wait.For(second.Ended));
    }

    [Fact]
    public async Task Temporary_CancelWithAbnormalReason_ConsumerSurvives()
    {
        var consumer = new Recorder<int>();
        var subscription = await Wait.For(consumer.SubscribeAsync(new Counter(), new() { Cancel = CancelMode.Temporary }));

        subscription.Cancel(StageExitReason.Custom("oops"));
        await Wait.For(subscription.Ended);
        await Wait.Flush(consumer);

        Assert.True(consumer.IsRunning);
        Assert.Equal("oops", Assert.Single(consumer.Cancels).Reason.Name);
    }

    [Fact]
    public async Task Permanent_ProducerStopsNormally_ConsumerStopsToo()
    {
        var counter = new Counter();
        var consumer = new Recorder<int>();
        await Wait.For(consumer.SubscribeAsync(counter));

        counter.Stop(StageExitReason.Normal);

        Assert.Same(StageExitReason.Normal, await Wait.For(consumer.Completion));
    }

    [Fact]
    public async Task CancelCallback_RunsBeforeTheCancelModeStopsTheConsumer()
    {
        bool? runningInCallback = null;
        Consumer<int>? consumer = null;
        consumer = StageFactory.CreateConsumer<int>(
            (_, _) => ValueTask.CompletedTask,
            (_, _) =>
            {
                runningInCallback = consumer!.IsRunning;
                return ValueTask.CompletedTask;
            });
        var subscription = await Wait.For(consumer.SubscribeAsync(new Counter()));

        subscription.Cancel(StageExitReason.Custom("bye"));

        Assert.Equal("bye", (await Wait.For(consumer.Completion)).Name);
        Assert.True(runningInCallback);
    }

    [Fact]
    public async Task ProducerConsumer_Permanent_UpstreamEnds_ItStops_AndItsConsumersSeeTheReason()
    {
        var counter = new Counter();
        var middle = StageFactory.CreateProducerConsumer<int, int>(events => new ValueTask<ReadOnlyMemory<int>>(events.ToArray()));
        var downstream = new Recorder<int>("downstream");
        await Wait.For(downstream.SubscribeAsync(middle, new() { Cancel = CancelMode.Temporary }));
        await Wait.For(middle.SubscribeAsync(counter));
        var killed = StageExitReason.Custom("killed");

        counter.Stop(killed);

        Assert.Same(killed, await Wait.For(middle.Completion));
        await Wait.Until(() => !downstream.Cancels.IsEmpty, "the downstream consumer sees the cancel");
        Assert.Same(killed, downstream.Cancels.Single().Reason);
        Assert.True(downstream.IsRunning);
    }

    [Fact]
    public async Task ManualDemand_AskAfterTheSubscriptionEnded_DoesNothing()
    {
        var counter = new Counter();
        var consumer = new Recorder<int>();
        var subscription = await Wait.For(consumer.SubscribeAsync(counter, new() { Demand = DemandMode.Manual, Cancel = CancelMode.Temporary }));
        subscription.Cancel();
        await Wait.For(subscription.Ended);

        subscription.Ask(10);
        await Wait.Flush(counter, consumer);

        Assert.Empty(counter.Demands);
        Assert.Empty(consumer.Batches);
    }

    [Fact]
    public async Task ManualDemand_SeveralAsks_AreEachForwarded_AndTheirEventsArriveInOrder()
    {
        var counter = new Counter();
        var consumer = new Recorder<int>();
        var subscription = await Wait.For(consumer.SubscribeAsync(counter, new() { Demand = DemandMode.Manual }));

        subscription.Ask(3);
        subscription.Ask(4);
        await Wait.Until(() => consumer.EventCount == 7, "seven events arrive");
        await Wait.Flush(counter, consumer);

        Assert.Equal([3L, 4L], counter.Demands);
        Assert.Equal(Seq.Range(0, 6), consumer.Events);
        Assert.Equal(0, subscription.OutstandingDemand);
    }
}
