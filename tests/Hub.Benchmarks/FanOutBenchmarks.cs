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
/// <remarks>
/// The log retains <see cref="Retention"/> events, so the stalled subscriber is lapped (and sees gaps) every
/// invocation while a fast one, which lags by at most a few thousand events, never is; should a fast one be lapped
/// after all, its skipped events end its wait and <see cref="Cleanup"/> prints how many there were.
/// </remarks>
[MemoryDiagnoser]
public class FanOutBenchmarks
{
    /// <summary>Deliveries per invocation, whatever the number of consumers.</summary>
    public const int Deliveries = 2_000_000;

    /// <summary>The cursor log's retention: a quarter of one invocation's events for a single consumer.</summary>
    public const int Retention = 500_000;

    private readonly List<CountingConsumer> _consumers = [];
    private PumpProducer? _producer;
    private Consumer<long>? _stalled;
    private TaskCompletionSource _done = null!;
    private int _remaining;
    private int _setups;
    private CursorBroadcastDispatcher<long>? _dispatcher;

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
        // BenchmarkDotNet may run the setup again (e.g. after its jitting stage): start from nothing each time.
        Cleanup();
        _setups++;
        _producer = new PumpProducer(_dispatcher = new CursorBroadcastDispatcher<long>(Retention));
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
        long skipped = _consumers.Sum(consumer => consumer.Skipped);
        if (skipped > 0)
        {
            Console.WriteLine($"// Fast subscribers were lapped: {skipped} events skipped in gaps.");
        }

        _producer?.Stop(StageExitReason.Shutdown);
        _consumers.Clear();
        _stalled = null;
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

        await _producer!.ReleaseAsync(EventsPerInvocation);
        try
        {
            await _done.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException exception)
        {
            string lagging = string.Join("; ", _consumers
                .Where(consumer => !consumer.Progress.StartsWith($"received {consumer.Expected} ", StringComparison.Ordinal))
                .Take(3)
                .Select(consumer => consumer.Subscription is { } s && _dispatcher!.TryGetCursor(s.Id, out long position, out long credits)
                    ? $"{consumer.Progress}, cursor {position}, credits {credits}"
                    : consumer.Progress));
            throw new TimeoutException($"{Volatile.Read(ref _remaining)} of {_consumers.Count} consumers short of their events; head {_dispatcher!.Head}; {lagging}", exception);
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
