using System.Collections.Concurrent;
using Hub.Stages.Tests.Support;

namespace Hub.Stages.Tests;

public class ProducerTests
{
    private const int A = 1000, B = 1001, C = 1002, D = 1003, E = 1004, F = 1005, G = 1006, H = 1007;

    [Fact]
    public async Task AccumulateDemand_HoldsAsksUntilForwarded_ThenServesThem()
    {
        var counter = new Counter(options: new() { Demand = ProducerDemand.Accumulate });
        var consumer = new Recorder<int>();
        await Wait.For(consumer.SubscribeAsync(counter, new() { MaxDemand = 4, MinDemand = 0 }));
        await Wait.Flush(counter);

        Assert.Empty(consumer.Batches);
        Assert.Empty(counter.Demands);

        await Wait.For(counter.SetDemandModeAsync(ProducerDemand.Forward));
        await Wait.Until(() => consumer.Batches.Count >= 1, "the first batch arrives");

        Assert.Equal([0, 1, 2, 3], consumer.Snapshot[0]);
        Assert.Equal(4L, counter.Demands.First());
    }

    [Fact]
    public async Task AccumulateDemand_TwoConsumers_ReplaysEachAskSeparately()
    {
        var counter = new Counter(options: new() { Demand = ProducerDemand.Accumulate });
        var first = new Recorder<int>("first");
        var second = new Recorder<int>("second");
        await Wait.For(first.SubscribeAsync(counter, new() { MaxDemand = 2, MinDemand = 0 }));
        await Wait.For(second.SubscribeAsync(counter, new() { MaxDemand = 2, MinDemand = 0 }));

        await Wait.For(counter.SetDemandModeAsync(ProducerDemand.Forward));

        Assert.Equal([2L, 2L], counter.Demands.Take(2));
    }

    [Fact]
    public async Task EventsEmittedBeforeAnyConsumer_AreServedFromTheBufferBeforeHandleDemand()
    {
        var counter = new Counter();
        await Wait.For(counter.EmitAsync(new[] { A, B, C, D, E }));
        Assert.Equal(5, counter.BufferedCount);
        var consumer = new Recorder<int>();

        await Wait.For(consumer.SubscribeAsync(counter, new() { MaxDemand = 4, MinDemand = 0 }));
        await Wait.Until(() => consumer.Batches.Count >= 4, "four batches arrive");

        Assert.Equal([[A, B, C, D], [E], [0, 1, 2], [3, 4, 5, 6]], consumer.Snapshot[..4]);
        Assert.Equal([3L, 4L], counter.Demands.Take(2));
    }

    [Fact]
    public async Task FullBuffer_KeepLast_DropsTheOldestAndReportsTheCount()
    {
        var counter = new Counter(options: new() { BufferSize = 5 });
        var diagnostics = new ConcurrentQueue<StageDiagnostic>();
        counter.Diagnostic += diagnostics.Enqueue;

        await Wait.For(counter.EmitAsync(new[] { A, B, C, D, E }));
        await Wait.For(counter.EmitAsync(new[] { F, G, H }));
        var consumer = new Recorder<int>();
        await Wait.For(consumer.SubscribeAsync(counter, new() { MaxDemand = 4, MinDemand = 0 }));
        await Wait.Until(() => consumer.Batches.Count >= 2, "two batches arrive");

        Assert.Equal([[D, E, F, G], [H]], consumer.Snapshot[..2]);
        Assert.Equal(3, counter.DroppedCount);
        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(StageDiagnosticKind.BufferOverflow, diagnostic.Kind);
        Assert.Equal(3, diagnostic.Count);
    }

    [Fact]
    public async Task FullBuffer_KeepFirst_DropsTheNewest()
    {
        var counter = new Counter(options: new() { BufferSize = 5, BufferKeep = BufferKeep.First });

        await Wait.For(counter.EmitAsync(new[] { A, B, C, D, E }));
        await Wait.For(counter.EmitAsync(new[] { F, G, H }));
        var consumer = new Recorder<int>();
        await Wait.For(consumer.SubscribeAsync(counter, new() { MaxDemand = 4, MinDemand = 0 }));
        await Wait.Until(() => consumer.Batches.Count >= 2, "two batches arrive");

        Assert.Equal([[A, B, C, D], [E]], consumer.Snapshot[..2]);
        Assert.Equal(3, counter.DroppedCount);
    }

    [Fact]
    public async Task UnboundedBuffer_CountsEmittedEvents_AndEmptiesWhenConsumed()
    {
        var producer = StageFactory.CreateProducer<int>(_ => ReadOnlyMemory<int>.Empty, options: new() { BufferSize = ProducerOptions.Unbounded });

        await Wait.For(producer.EmitAsync(new[] { A, B, C, D, E }));
        Assert.Equal(5, producer.BufferedCount);
        await Wait.For(producer.EmitAsync(new[] { F, G, H }));
        Assert.Equal(8, producer.BufferedCount);

        var consumer = new Recorder<int>();
        await Wait.For(consumer.SubscribeAsync(producer, new() { MaxDemand = 10 }));
        await Wait.Until(() => consumer.EventCount == 8, "all eight events arrive");

        Assert.Equal([A, B, C, D, E, F, G, H], consumer.Events);
        Assert.Equal(0, producer.BufferedCount);
    }

    [Fact]
    public async Task HandleDemand_ReturningMoreThanAsked_BuffersTheExcess()
    {
        var producer = StageFactory.CreateProducer<int>(demand => Seq.Range(0, (int)demand + 2));
        var consumer = new Recorder<int>();
        var subscription = await Wait.For(consumer.SubscribeAsync(producer, new() { Demand = Subscriptions.DemandMode.Manual }));

        subscription.Ask(3);
        await Wait.Until(() => consumer.EventCount == 3, "three events arrive");
        await Wait.Flush(producer);

        Assert.Equal(3, producer.BufferedCount);
        subscription.Ask(2);
        await Wait.Until(() => consumer.EventCount == 5, "two more arrive, from the buffer");
        Assert.Equal([0, 1, 2, 3, 4], consumer.Events);
        Assert.Equal(1, producer.BufferedCount);
    }

    [Fact]
    public async Task HandleDemand_ReturningFewer_IsNotAskedAgainForTheRest()
    {
        var demands = new ConcurrentQueue<long>();
        var producer = StageFactory.CreateProducer<int>(demand =>
        {
            demands.Enqueue(demand);
            return new[] { 7 };
        });
        var consumer = new Recorder<int>();
        var subscription = await Wait.For(consumer.SubscribeAsync(producer, new() { Demand = Subscriptions.DemandMode.Manual }));

        subscription.Ask(5);
        await Wait.Until(() => consumer.EventCount == 1, "one event arrives");
        await Wait.Flush(producer);

        Assert.Equal([5L], demands);
        Assert.Equal(4, subscription.OutstandingDemand);
    }

    [Fact]
    public async Task DemandMode_SwitchedOffAndOnRepeatedly_HoldsAsksEachTime_AndReplaysThemOnForward()
    {
        var counter = new Counter();
        var consumer = new Recorder<int>();
        var subscription = await Wait.For(consumer.SubscribeAsync(counter, new() { Demand = Subscriptions.DemandMode.Manual }));

        subscription.Ask(2);
        await Wait.Until(() => consumer.EventCount == 2, "forwarding: the first ask is served at once");

        await Wait.For(counter.SetDemandModeAsync(ProducerDemand.Accumulate));
        subscription.Ask(3);
        subscription.Ask(1);
        await Wait.Flush(counter, consumer);
        Assert.Equal(2, consumer.EventCount);
        Assert.Equal([2L], counter.Demands);

        await Wait.For(counter.SetDemandModeAsync(ProducerDemand.Forward));
        await Wait.Until(() => consumer.EventCount == 6, "the held asks are replayed");
        Assert.Equal([2L, 3L, 1L], counter.Demands);

        await Wait.For(counter.SetDemandModeAsync(ProducerDemand.Accumulate));
        subscription.Ask(5);
        await Wait.Flush(counter, consumer);
        Assert.Equal(6, consumer.EventCount);

        await Wait.For(counter.SetDemandModeAsync(ProducerDemand.Forward));
        await Wait.Until(() => consumer.EventCount == 11, "the second hold is replayed too");
        Assert.Equal([2L, 3L, 1L, 5L], counter.Demands);
        Assert.Equal(Seq.Range(0, 10), consumer.Events);
    }

    [Fact]
    public async Task DemandMode_ForwardWhileForwarding_OrAccumulateTwice_ChangesNothing()
    {
        var counter = new Counter(options: new() { Demand = ProducerDemand.Accumulate });
        var consumer = new Recorder<int>();
        await Wait.For(consumer.SubscribeAsync(counter, new() { MaxDemand = 4, MinDemand = 0 }));
        await Wait.Flush(counter);

        await Wait.For(counter.SetDemandModeAsync(ProducerDemand.Accumulate));
        Assert.Empty(counter.Demands);

        await Wait.For(counter.SetDemandModeAsync(ProducerDemand.Forward));
        await Wait.For(counter.SetDemandModeAsync(ProducerDemand.Forward));
        await Wait.Until(() => consumer.EventCount >= 4, "the held ask is served once");

        Assert.Equal(4L, counter.Demands.First());
    }

    [Fact]
    public async Task AccumulatedAsk_OfASubscriberThatLeft_IsNotReplayed()
    {
        var counter = new Counter(options: new() { Demand = ProducerDemand.Accumulate });
        var leaving = new Recorder<int>("leaving");
        var staying = new Recorder<int>("staying");
        var gone = await Wait.For(leaving.SubscribeAsync(counter, new() { MaxDemand = 3, MinDemand = 0, Cancel = Subscriptions.CancelMode.Temporary }));
        await Wait.For(staying.SubscribeAsync(counter, new() { MaxDemand = 2, MinDemand = 0 }));
        gone.Cancel();
        await Wait.For(gone.Ended);
        await Wait.Flush(counter);

        await Wait.For(counter.SetDemandModeAsync(ProducerDemand.Forward));
        await Wait.Until(() => staying.EventCount >= 2, "the staying consumer is served");

        Assert.Equal(2L, counter.Demands.First());
        Assert.Empty(leaving.Batches);
    }

    /// <summary>The dispatcher's warning reaches the producer stage's <see cref="Stage.Diagnostic"/>: consumers with
    /// max demands of 10 and 20 on one demand dispatcher.</summary>
    [Fact]
    public async Task DemandDispatcher_ConsumersWithDifferentMaxDemands_ReportADemandMismatch()
    {
        var counter = new Counter(dispatcher: new Hub.Stages.Dispatchers.DemandDispatcher<int>());
        var diagnostics = new ConcurrentQueue<StageDiagnostic>();
        counter.Diagnostic += diagnostics.Enqueue;
        var small = new Recorder<int>("small");
        var large = new Recorder<int>("large");

        await Wait.For(small.SubscribeAsync(counter, new() { MaxDemand = 10, MinDemand = 5 }));
        await Wait.Until(() => small.Batches.Count >= 1, "the first consumer's events");
        Assert.Empty(diagnostics);
        await Wait.For(large.SubscribeAsync(counter, new() { MaxDemand = 20, MinDemand = 10 }));
        await Wait.Until(() => !diagnostics.IsEmpty, "a demand mismatch reported");

        var diagnostic = diagnostics.First();
        Assert.Equal(StageDiagnosticKind.DemandMismatch, diagnostic.Kind);
        Assert.Equal(20, diagnostic.Count);
    }
}
