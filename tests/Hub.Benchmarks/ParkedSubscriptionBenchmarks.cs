using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Hub.Log;
using Hub.Server.Subscriptions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Hub.Benchmarks;

/// <summary>
/// What one idle subscription costs: <see cref="Subscriptions"/> subscriptions created on a caught-up
/// <see cref="MemoryEventLog"/>, started, and waited for until every one has parked (registered with the log for the
/// next append, no run in progress). One operation is one subscription; Allocated is what creating, starting and parking
/// it allocated (an upper bound of what it holds, which <c>--parked</c> measures as live bytes after a full GC).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 2, iterationCount: 7, invocationCount: 1)]
public class ParkedSubscriptionBenchmarks
{
    /// <summary>Subscriptions per invocation.</summary>
    public const int Subscriptions = 1_000;

    private readonly List<Subscription> _subscriptions = new(Subscriptions);
    private readonly Hub.Server.Telemetry.HubMetrics _metrics = new();
    private LogTail _log = null!;
    private SubscribeRequest _request = null!;
    private NullChannel _channel = null!;

    [GlobalSetup]
    public void Setup()
    {
        var logOptions = new EventLogOptions { Retention = new() { MaxEvents = 10_000 } };
        _log = new LogTail(new MemoryEventLog(Options.Create(logOptions)), logOptions, MemoryEventLog.TailCapacity(logOptions));
        _request = SubscribeRequest.Parse(JsonDocument.Parse("""{"topics":["orders.>"],"maxDemand":1000,"minDemand":500}""").RootElement);
        _channel = new NullChannel();
    }

    [IterationCleanup]
    public void EndAll()
    {
        foreach (var subscription in _subscriptions)
        {
            subscription.End("shutdown", notify: false);
        }

        Task.WaitAll([.. _subscriptions.Select(s => s.Completion)], TimeSpan.FromSeconds(30));
        _subscriptions.Clear();
    }

    [Benchmark(OperationsPerInvoke = Subscriptions)]
    public void CreateAndPark() => CreateParked(_subscriptions);

    /// <summary>Creates and starts <see cref="Subscriptions"/> subscriptions into <paramref name="into"/>, and returns
    /// once all of them have parked.</summary>
    internal void CreateParked(List<Subscription> into)
    {
        for (var i = 0; i < Subscriptions; i++)
        {
            var subscription = new Subscription("sub_" + i.ToString("x20", System.Globalization.CultureInfo.InvariantCulture), "s", "c", _request, _log.Head, _log, _channel,
                DeliveryOptions.DefaultMaxBatchBytes, NullLogger.Instance, static _ => { }, _metrics);
            into.Add(subscription);
            subscription.Start();
        }

        var until = DateTime.UtcNow.AddSeconds(30);
        while (into.Any(static s => !s.IsParked))
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException("subscriptions did not park within 30 s");
            }

            Thread.Yield();
        }
    }

    /// <summary>The live bytes one parked subscription holds: managed heap after a full GC, with and without them.</summary>
    public static void PrintHeld()
    {
        var benchmark = new ParkedSubscriptionBenchmarks();
        benchmark.Setup();
        var warm = new List<Subscription>();
        benchmark.CreateParked(warm); // JIT and pools first
        benchmark._subscriptions.AddRange(warm);
        benchmark.EndAll();
        var held = new List<Subscription>(Subscriptions);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        benchmark.CreateParked(held);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        Console.WriteLine($"one parked subscription holds {(after - before) / (double)Subscriptions:N0} B (managed heap after a full GC, {Subscriptions:N0} subscriptions; its request, filter, cursor, ids and the log's listener slot)");
        GC.KeepAlive(held);
    }

    private sealed class NullChannel : ISubscriberChannel
    {
        public Task SendEventsAsync(string connectionId, string subscriptionId, List<LogEntry> batch, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task SendGapAsync(string connectionId, string subscriptionId, GapNotice gap, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task SendEndedAsync(string connectionId, string subscriptionId, EndedNotice ended, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
