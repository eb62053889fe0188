using BenchmarkDotNet.Attributes;
using Hub.Stages;
using Hub.Stages.Dispatchers;
using Hub.Stages.Subscriptions;

namespace Hub.Benchmarks;

/// <summary>
/// GenStage's broadcast (<see cref="BroadcastDispatcher{T}"/>: upstream demand is the minimum across subscribers) from
/// one producer to 1–1000 consumer stages (max 1000, min 500), beside <see cref="FanOutBenchmarks"/>, which runs the
/// same shape through Hub's <see cref="CursorBroadcastDispatcher{T}"/>. One operation is one event delivered to one
/// fast subscriber; each invocation delivers <see cref="Deliveries"/> in all and ends when every fast subscriber has
/// received its events.
/// </summary>
/// <remarks>
/// With <see cref="OneStalled"/>, one more subscriber asks for 1000 events once and never again. Under GenStage's rule
/// the others then receive at most those 1000 events, ever: an invocation cannot finish, so it gives up after
/// <see cref="StallBudget"/> and <see cref="Cleanup"/> prints how many of the released deliveries happened. The
/// reported time of those rows is the budget, not a rate.
/// </remarks>
[MemoryDiagnoser]
public class GenStageBroadcastBenchmarks
{
    /// <summary>Deliveries per invocation, whatever the number of subscribers.</summary>
    public const int Deliveries = 2_000_000;

    /// <summary>How long an invocation waits for the fast subscribers before it gives up.</summary>
    public static readonly TimeSpan StallBudget = TimeSpan.FromMilliseconds(50);

    private readonly List<CountingConsumer> _consumers = [];
    private PumpProducer? _producer;
    private TaskCompletionSource _done = null!;
    private int _remaining;
    private long _invocations;
    private long _timedOut;

    [Params(1, 10, 100, 1000)]
    public int Consumers { get; set; }

    [Params(false, true)]
    public bool OneStalled { get; set; }

    private int EventsPerInvocation => Deliveries / Consumers;

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_invocations > 0)
        {
            long expected = _invocations * (long)EventsPerInvocation * Consumers;
            long received = _consumers.Sum(consumer => consumer.Received);
            Console.WriteLine($"// GenStage broadcast, {Consumers} subscribers, stalled={OneStalled}: {received:N0} of {expected:N0} deliveries ({100.0 * received / expected:F3}%) in {_invocations} invocations, {_timedOut} ended by the {StallBudget.TotalMilliseconds} ms budget.");
        }

        _producer?.Stop(StageExitReason.Shutdown);
        _consumers.Clear();
        _invocations = _timedOut = 0;
    }

    [Benchmark(OperationsPerInvoke = Deliveries)]
    public async Task GenStageBroadcast()
    {
        _invocations++;
        _done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _remaining = _consumers.Count;
        foreach (CountingConsumer consumer in _consumers)
        {
            consumer.Expect(EventsPerInvocation);
        }

        await _producer!.ReleaseAsync(EventsPerInvocation);
        if (!OneStalled)
        {
            await _done.Task.WaitAsync(TimeSpan.FromSeconds(60));
            return;
        }

        try
        {
            await _done.Task.WaitAsync(StallBudget);
        }
        catch (TimeoutException)
        {
            _timedOut++;
        }
    }

    private async Task SetupAsync()
    {
        Cleanup();
        _producer = new PumpProducer(new BroadcastDispatcher<long>());
        if (OneStalled)
        {
            var stalled = StageFactory.CreateConsumer<long>(_ => { }, "stalled");
            var subscription = await stalled.SubscribeAsync(_producer, new() { Demand = DemandMode.Manual });
            subscription.Ask(DemandLimits.DefaultMaxDemand);
        }

        for (int i = 0; i < Consumers; i++)
        {
            var consumer = new CountingConsumer(OnTargetReached);
            await consumer.SubscribeAsync(_producer);
            _consumers.Add(consumer);
        }
    }

    private void OnTargetReached()
    {
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _done.TrySetResult();
        }
    }
}
