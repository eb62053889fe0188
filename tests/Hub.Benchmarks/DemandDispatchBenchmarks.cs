using BenchmarkDotNet.Attributes;
using Hub.Stages;
using Hub.Stages.Dispatchers;
using Hub.Stages.Subscriptions;

namespace Hub.Benchmarks;

/// <summary>
/// One producer → <see cref="DemandDispatcher{T}"/> → 2 or 8 consumer stages (default demand, max 1000, min 500): each
/// event reaches one consumer. One operation is one event delivered; an invocation ends only when every released
/// event has been handled by some consumer.
/// </summary>
/// <remarks>
/// With <see cref="OneStalled"/>, one more consumer subscribes with manual demand and never asks: it holds no demand,
/// so the dispatcher must simply pass it by.
/// </remarks>
[MemoryDiagnoser]
public class DemandDispatchBenchmarks
{
    /// <summary>Events (= deliveries) per invocation.</summary>
    public const int Events = 10_000_000;

    private readonly DeliveryTally _tally = new();
    private readonly List<Stage> _stages = [];
    private PumpProducer? _producer;

    [Params(2, 8)]
    public int Consumers { get; set; }

    [Params(false, true)]
    public bool OneStalled { get; set; }

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup()
    {
        _producer?.Stop(StageExitReason.Shutdown);
        _stages.Clear();
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public async Task DemandDispatch()
    {
        Task done = _tally.Expect(Events);
        await _producer!.ReleaseAsync(Events);
        await done.WaitAsync(TimeSpan.FromSeconds(60));
    }

    private async Task SetupAsync()
    {
        Cleanup();
        _producer = new PumpProducer(new DemandDispatcher<long>());
        if (OneStalled)
        {
            var stalled = StageFactory.CreateConsumer<long>(_ => { }, "stalled");
            await stalled.SubscribeAsync(_producer, new() { Demand = DemandMode.Manual });
            _stages.Add(stalled);
        }

        for (int i = 0; i < Consumers; i++)
        {
            var consumer = new TallyConsumer(_tally);
            await consumer.SubscribeAsync(_producer);
            _stages.Add(consumer);
        }
    }
}
