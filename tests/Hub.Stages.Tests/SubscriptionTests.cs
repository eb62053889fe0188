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
}
