using BenchmarkDotNet.Attributes;
using Hub.Stages;
using Hub.Stages.Dispatchers;
using Hub.Stages.Subscriptions;

namespace Hub.Benchmarks;

/// <summary>
/// One producer fanning out through <see cref="CursorBroadcastDispatcher{T}"/> to 1–1000 consumer stages, with and
/// without one extra stalled subscriber (asks once, never again). Each operation is one event delivered to one fast
/// subscriber: every invocation delivers <see cref="Deliveries"/> events in all (events × fast subscribers), and ends
/// only when every fast subscriber has received all of them.
/// </summary>
[MemoryDiagnoser]
public class FanOutBenchmarks
{
    /// <summary>Deliveries per invocation, whatever the number of consumers.</summary>
    public const int Deliveries = 2_000_000;

    private readonly List<CountingConsumer> _consumers = [];
    private PumpProducer _producer = null!;
    private Consumer<long>? _stalled;
    private TaskCompletionSource _done = null!;
    private int _remaining;

    [Params(1, 10, 100, 1000)]
    public int Consumers { get; set; }

    [Params(false, true)]
    public bool OneStalled { get; set; }

    private int EventsPerInvocation => Deliveries / Consumers;

    // Synchronous on purpose: every subscription must be in place before the first invocation.
    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        _producer = new PumpProducer(new CursorBroadcastDispatcher<long>());
        if (OneStalled)
        {
            _stalled = StageFactory.CreateConsumer<long>(_ => { }, "stalled");
            var subscription = await _stalled.SubscribeAsync(_producer, new() { Demand = DemandMode.Manual });
            subscription.Ask(DemandLimits.DefaultMaxDemand);
        }

        for (int i = 0; i < Consumers; i++)
        {
            var consumer = new CountingConsumer(OnTargetReached);
            await consumer.SubscribeAsync(_producer);
            _consumers.Add(consumer);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _producer.Stop(StageExitReason.Shutdown);
        _consumers.Clear();
    }

    [Benchmark(OperationsPerInvoke = Deliveries)]
    public async Task CursorBroadcast()
    {
        _done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _remaining = _consumers.Count;
        foreach (CountingConsumer consumer in _consumers)
        {
            consumer.Expect(EventsPerInvocation);
        }

        await _producer.ReleaseAsync(EventsPerInvocation);
        await _done.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }

    private void OnTargetReached()
    {
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _done.TrySetResult();
        }
    }
}
