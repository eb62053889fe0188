using BenchmarkDotNet.Attributes;
using Hub.Stages;
using Hub.Stages.Dispatchers;
using Hub.Stages.Subscriptions;

namespace Hub.Benchmarks;

/// <summary>
/// One producer → <see cref="PartitionDispatcher{T}"/> with 8 partitions (event <c>n</c> to partition <c>n mod 8</c>) →
/// one consumer stage per partition (max 1000, min 500). One operation is one event delivered to a running partition;
/// an invocation ends only when every such event has been handled.
/// </summary>
/// <remarks>
/// With <see cref="OneStalled"/>, partition 7's consumer subscribes with manual demand and never asks: its events (one
/// in eight) wait in its queue while the other seven partitions must go on. The queue is unbounded here, so the run
/// measures the others' rate and what the growing queue costs; with the default bound
/// (<see cref="PartitionDispatcher{T}.DefaultMaxQueued"/>) every partition stops once 10,000 events wait for the
/// stalled one, which is the intended back-pressure (the unit tests show it).
/// </remarks>
[MemoryDiagnoser]
public class PartitionDispatchBenchmarks
{
    /// <summary>Deliveries per invocation: all of 7 M events, or 7/8 of 8 M with one partition stalled.</summary>
    public const int Deliveries = 7_000_000;

    private const int StalledPartition = 7;
    private readonly DeliveryTally _tally = new();
    private readonly List<Stage> _stages = [];
    private PumpProducer? _producer;

    [Params(8)]
    public int Partitions { get; set; }

    [Params(false, true)]
    public bool OneStalled { get; set; }

    private int EventsPerInvocation => OneStalled ? Deliveries / 7 * 8 : Deliveries;

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup()
    {
        _producer?.Stop(StageExitReason.Shutdown);
        _stages.Clear();
    }

    [Benchmark(OperationsPerInvoke = Deliveries)]
    public async Task PartitionDispatch()
    {
        Task done = _tally.Expect(Deliveries);
        await _producer!.ReleaseAsync(EventsPerInvocation);
        await done.WaitAsync(TimeSpan.FromSeconds(60));
    }

    private async Task SetupAsync()
    {
        Cleanup();
        int partitions = Partitions;
        var dispatcher = new PartitionDispatcher<long>(partitions, n => (int)(n % partitions), OneStalled ? int.MaxValue : PartitionDispatcher<long>.DefaultMaxQueued);
        _producer = new PumpProducer(dispatcher);
        for (int partition = 0; partition < partitions; partition++)
        {
            if (OneStalled && partition == StalledPartition)
            {
                var stalled = StageFactory.CreateConsumer<long>(_ => { }, "stalled");
                await stalled.SubscribeAsync(_producer, new() { Partition = partition, Demand = DemandMode.Manual });
                _stages.Add(stalled);
                continue;
            }

            var consumer = new TallyConsumer(_tally);
            await consumer.SubscribeAsync(_producer, new() { Partition = partition });
            _stages.Add(consumer);
        }
    }
}
