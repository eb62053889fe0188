using System.Collections.Concurrent;
using Hub.Stages.Tests.Support;

namespace Hub.Stages.Tests;

public class StageTests
{
    [Fact]
    public async Task Messages_AreHandledOneAtATime_InOrder_EvenWhenCallbacksAreAsync()
    {
        var consumer = new Recorder<int>();
        var order = new ConcurrentQueue<int>();
        int running = 0;
        int overlapped = 0;
        var tasks = new List<Task>();

        for (int i = 0; i < 200; i++)
        {
            int value = i;
            tasks.Add(consumer.InvokeAsync(async () =>
            {
                if (Interlocked.Increment(ref running) > 1)
                {
                    Interlocked.Increment(ref overlapped);
                }

                await Task.Yield();
                order.Enqueue(value);
                Interlocked.Decrement(ref running);
            }));
        }

        await Wait.For(Task.WhenAll(tasks));

        Assert.Equal(Enumerable.Range(0, 200), order);
        Assert.Equal(0, overlapped);
    }

    [Fact]
    public async Task CallbackThatThrows_StopsTheStageWithTheError()
    {
        var consumer = new Recorder<int>();
        var failure = new InvalidOperationException("boom");

        await Assert.ThrowsAsync<InvalidOperationException>(() => consumer.InvokeAsync(() => throw failure));

        var reason = await Wait.For(consumer.Completion);
        Assert.Same(failure, reason.Exception);
        Assert.False(reason.IsNormal);
    }

    [Fact]
    public async Task InvokeAsync_AfterStop_Fails()
    {
        var consumer = new Recorder<int>();
        consumer.Stop();
        await Wait.For(consumer.Completion);

        await Assert.ThrowsAsync<InvalidOperationException>(() => consumer.InvokeAsync(() => { }));
    }

    [Fact]
    public async Task FailingProducer_EndsItsConsumersSubscriptionsWithTheError()
    {
        var producer = StageFactory.CreateProducer<int>(new Func<long, ReadOnlyMemory<int>>(_ => throw new InvalidOperationException("demand failed")));
        var consumer = new Recorder<int>();

        var subscription = await Wait.For(consumer.SubscribeAsync(producer, new() { Cancel = Subscriptions.CancelMode.Temporary }));

        var reason = await Wait.For(subscription.Ended);
        Assert.IsType<InvalidOperationException>(reason.Exception);
        Assert.True(consumer.IsRunning);
    }

    [Fact]
    public async Task ManyStages_ShareTheThreadPool_WithoutAThreadEach()
    {
        var counter = new Counter(dispatcher: new Hub.Stages.Dispatchers.CursorBroadcastDispatcher<int>());
        var consumers = Enumerable.Range(0, 500).Select(i => new Recorder<int>($"c{i}")).ToArray();
        foreach (var consumer in consumers)
        {
            await Wait.For(consumer.SubscribeAsync(counter, new() { MaxDemand = 10 }));
        }

        await Wait.Until(() => consumers.All(c => c.EventCount >= 100), "every consumer receives 100 events");

        Assert.All(consumers, c => Assert.True(c.IsRunning));
        counter.Stop(StageExitReason.Shutdown);
        await Wait.Until(() => consumers.All(c => !c.IsRunning), "every permanent consumer stops with the producer");
    }

    [Fact]
    public async Task Post_WhileTheStageGoesIdle_NeverLeavesAMessageWaiting()
    {
        // Regression: the stage must not miss a message posted just as its turn ends (a lost wake-up hangs here).
        var consumer = new Recorder<int>();
        int handled = 0;
        for (int round = 0; round < 2000; round++)
        {
            Task[] posts = Enumerable.Range(0, 2)
                .Select(_ => Task.Run(() => consumer.InvokeAsync(() => { Interlocked.Increment(ref handled); })))
                .ToArray();
            await Wait.For(Task.WhenAll(posts));
        }

        Assert.Equal(4000, handled);
    }
}
