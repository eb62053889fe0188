using Hub.Stages.Dispatchers;
using Hub.Stages.Subscriptions;
using Hub.Stages.Tests.Support;

namespace Hub.Stages.Tests;

public class ConsumerTests
{
    private static async Task<int[][]> FirstBatches(SubscriptionOptions<int>? options, int count)
    {
        var counter = new Counter();
        var consumer = new Recorder<int>();
        await Wait.For(consumer.SubscribeAsync(counter, options));
        await Wait.Until(() => consumer.Batches.Count >= count, $"{count} batches arrive");
        return consumer.Snapshot[..count];
    }

    [Fact]
    public async Task AutomaticDemand_WithDefaults_HandlesBatchesOf500()
    {
        var batches = await FirstBatches(null, 2);

        Assert.Equal(Seq.Range(0, 499), batches[0]);
        Assert.Equal(Seq.Range(500, 999), batches[1]);
    }

    [Fact]
    public async Task AutomaticDemand_Max100Min20_CutsBatchesAt80AndAsksAfterHandling()
    {
        var batches = await FirstBatches(new() { MaxDemand = 100, MinDemand = 20 }, 5);

        Assert.Equal(Seq.Range(0, 79), batches[0]);
        Assert.Equal(Seq.Range(80, 99), batches[1]);
        Assert.Equal(Seq.Range(100, 179), batches[2]);
        Assert.Equal(Seq.Range(180, 259), batches[3]);
        Assert.Equal(Seq.Range(260, 279), batches[4]);
    }

    [Fact]
    public async Task AutomaticDemand_Max100Min80_HandlesBatchesOf20()
    {
        var batches = await FirstBatches(new() { MaxDemand = 100, MinDemand = 80 }, 6);

        for (int i = 0; i < batches.Length; i++)
        {
            Assert.Equal(Seq.Range(i * 20, (i * 20) + 19), batches[i]);
        }
    }

    [Fact]
    public async Task AutomaticDemand_Max1Min0_HandlesOneEventAtATime()
    {
        var batches = await FirstBatches(new() { MaxDemand = 1, MinDemand = 0 }, 5);

        Assert.Equal([[0], [1], [2], [3], [4]], batches);
    }

    [Fact]
    public async Task SubscribeAsync_WithMaxDemandZero_FailsNamingOptionAndRange_AndConsumerKeepsRunning()
    {
        var counter = new Counter();
        var consumer = new Recorder<int>();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => consumer.SubscribeAsync(counter, new() { MaxDemand = 0 }));

        Assert.Contains("MaxDemand must be between 1 and 2147483647 (got 0)", error.Message, StringComparison.Ordinal);
        Assert.True(consumer.IsRunning);
        await Wait.For(consumer.SubscribeAsync(counter, new() { MaxDemand = 10 }));
        await Wait.Until(() => consumer.EventCount >= 10, "the consumer still receives events");
    }

    [Fact]
    public async Task SubscribeAsync_WithMinDemandAboveMax_FailsNamingOptionAndRange()
    {
        var consumer = new Recorder<int>();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => consumer.SubscribeAsync(new Counter(), new() { MaxDemand = 1000, MinDemand = 2000 }));

        Assert.Contains("MinDemand must be between 0 and MaxDemand - 1 = 999 (got 2000)", error.Message, StringComparison.Ordinal);
        Assert.True(consumer.IsRunning);
    }

    [Fact]
    public async Task ManualDemand_Ask50Twice_Receives0To49Then50To99()
    {
        var counter = new Counter();
        var consumer = new Recorder<int>();
        var subscription = await Wait.For(consumer.SubscribeAsync(counter, new() { Demand = DemandMode.Manual }));
        await Wait.Flush(counter);
        Assert.Empty(counter.Demands);

        Consumer<int>.Ask(subscription, 50);
        await Wait.Until(() => consumer.Batches.Count == 1, "the first batch arrives");
        Consumer<int>.Ask(subscription, 0);
        subscription.Ask(50);
        await Wait.Until(() => consumer.Batches.Count == 2, "the second batch arrives");

        Assert.Equal([Seq.Range(0, 49), Seq.Range(50, 99)], consumer.Snapshot);
        Assert.Equal([50L, 50L], counter.Demands);
    }

    [Fact]
    public async Task ManualDemand_AskZero_DoesNothing()
    {
        var counter = new Counter();
        var consumer = new Recorder<int>();
        var subscription = await Wait.For(consumer.SubscribeAsync(counter, new() { Demand = DemandMode.Manual }));

        subscription.Ask(0);
        await Wait.Flush(consumer, counter, consumer);

        Assert.Empty(counter.Demands);
        Assert.Empty(consumer.Batches);
        Assert.Equal(0, subscription.OutstandingDemand);
    }

    [Fact]
    public async Task ManualDemand_LargeBatch_IsNotCutByMaxAndMin()
    {
        var counter = new Counter();
        var consumer = new Recorder<int>();
        var subscription = await Wait.For(consumer.SubscribeAsync(counter, new() { Demand = DemandMode.Manual, MaxDemand = 10, MinDemand = 5 }));

        subscription.Ask(100);
        await Wait.Until(() => consumer.Batches.Count == 1, "one batch arrives");

        Assert.Equal(Seq.Range(0, 99), consumer.Snapshot[0]);
    }

    [Fact]
    public async Task EventsBeyondDemand_AreReportedAsProtocolError()
    {
        var producer = StageFactory.CreateProducer<int>(_ => ReadOnlyMemory<int>.Empty, new FloodDispatcher());
        var consumer = new Recorder<int>();
        var diagnostics = new System.Collections.Concurrent.ConcurrentQueue<StageDiagnostic>();
        consumer.Diagnostic += diagnostics.Enqueue;
        var subscription = await Wait.For(consumer.SubscribeAsync(producer, new() { Demand = DemandMode.Manual }));
        subscription.Ask(2);
        await Wait.Flush(consumer, producer);

        await Wait.For(producer.EmitAsync(new[] { 1, 2, 3, 4, 5 }));
        await Wait.Until(() => consumer.Batches.Count == 1, "the batch arrives");
        await Wait.Flush(consumer);

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(StageDiagnosticKind.ExcessEvents, diagnostic.Kind);
        Assert.Equal(3, diagnostic.Count);
        Assert.Equal(0, subscription.OutstandingDemand);
    }

    /// <summary>A misbehaving dispatcher that ignores demand, to provoke the protocol error.</summary>
    private sealed class FloodDispatcher : IDispatcher<int>
    {
        private readonly List<long> _ids = [];

        public long Subscribe(long subscriberId, SubscriptionOptions<int> options)
        {
            _ids.Add(subscriberId);
            return 0;
        }

        public long Ask(long subscriberId, long count, IDispatchSink<int> sink) => 0;

        public long Cancel(long subscriberId)
        {
            _ids.Remove(subscriberId);
            return 0;
        }

        public ReadOnlyMemory<int> Dispatch(ReadOnlyMemory<int> events, IDispatchSink<int> sink, out long demand)
        {
            demand = 0;
            foreach (long id in _ids)
            {
                sink.Deliver(id, events);
            }

            return ReadOnlyMemory<int>.Empty;
        }
    }
}
