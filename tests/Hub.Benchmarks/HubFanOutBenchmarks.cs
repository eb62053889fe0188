using System.Buffers;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Hub.Log;
using Hub.Server.Hubs;
using Hub.Server.Subscriptions;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Hub.Benchmarks;

/// <summary>
/// The hub's own delivery path without the network: events appended to <see cref="MemoryEventLog"/>, read by one
/// <see cref="Subscription"/> stage per subscriber, each batch written as the JSON of an <c>events</c> message by the
/// hub's writer (<see cref="JsonEventsFrameProtocol"/>: the stored envelopes copied into one piece), and credits re-asked as
/// a client would. One operation is one event delivered to one fast subscriber.
/// </summary>
/// <remarks>
/// With <see cref="OneStalled"/>, one more subscriber's connection never completes its first write (a socket that
/// stopped reading): it holds one batch and its cursor, and must not slow the others.
/// </remarks>
[MemoryDiagnoser]
public class HubFanOutBenchmarks
{
    /// <summary>Deliveries per invocation, whatever the number of subscribers.</summary>
    public const int Deliveries = 200_000;

    private const int PublishBatch = 500;
    private readonly List<Subscription> _subscriptions = [];
    private LogTail _log = null!;
    private CountingChannel _channel = null!;
    private EventDraft[] _batch = null!;

    [Params(1, 10, 100, 1000)]
    public int Subscribers { get; set; }

    [Params(false, true)]
    public bool OneStalled { get; set; }

    private int EventsPerInvocation => Deliveries / Subscribers;

    [GlobalSetup]
    public void Setup()
    {
        var logOptions = new EventLogOptions { Retention = new() { MaxEvents = 1_000_000 } };
        _log = new LogTail(new MemoryEventLog(Options.Create(logOptions)), logOptions, MemoryEventLog.TailCapacity(logOptions));
        _channel = new CountingChannel(this);
        var body = Encoding.UTF8.GetBytes("""{"topic":"orders.eu.created","type":"order.created","id":null,"key":null,"time":"2026-11-22T00:00:00Z","data":{"order":12345,"total":99.5,"items":["a","b","c"]},"headers":null}""");
        _batch = Enumerable.Range(0, PublishBatch).Select(_ => new EventDraft("orders.eu.created", "order.created", null, null, DateTimeOffset.UtcNow, body)).ToArray();
        var request = SubscribeRequest.Parse(JsonDocument.Parse("""{"topics":["orders.>"],"maxDemand":1000,"minDemand":500}""").RootElement);
        for (var i = 0; i < Subscribers + (OneStalled ? 1 : 0); i++)
        {
            var stalled = OneStalled && i == Subscribers;
            var subscription = new Subscription($"s{i}", $"s{i}", stalled ? "stalled" : "c", request, _log.Head, _log, _channel, DeliveryOptions.DefaultMaxBatchBytes, NullLogger.Instance, static _ => { }, new Hub.Server.Telemetry.HubMetrics());
            _channel.Register(subscription, stalled);
            _subscriptions.Add(subscription);
            subscription.Start();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var subscription in _subscriptions)
        {
            subscription.End("shutdown", notify: false);
        }
    }

    [Benchmark(OperationsPerInvoke = Deliveries)]
    public async Task LogToSubscriptions()
    {
        var target = _log.Head + EventsPerInvocation;
        var done = _channel.Expect(target, Subscribers);
        for (var published = 0; published < EventsPerInvocation; published += PublishBatch)
        {
            await _log.AppendAsync(published + PublishBatch <= EventsPerInvocation ? _batch : _batch[..(EventsPerInvocation - published)]);
        }

        await done.WaitAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>Writes each batch as an <c>events</c> message's JSON, re-asks like a client, and counts arrivals.</summary>
    private sealed class CountingChannel(HubFanOutBenchmarks owner) : ISubscriberChannel
    {
        private static readonly JsonEventsFrameProtocol Json = new(new JsonHubProtocol());
        private readonly Dictionary<string, (Subscription Subscription, ArrayBufferWriter<byte> Buffer, bool Stalled)> _byId = [];
        private readonly TaskCompletionSource _never = new();
        private TaskCompletionSource _done = new();
        private long _target;
        private int _remaining;

        public void Register(Subscription subscription, bool stalled) => _byId[subscription.Id] = (subscription, new ArrayBufferWriter<byte>(64 * 1024), stalled);

        public Task Expect(long target, int subscribers)
        {
            _done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _target, target);
            Volatile.Write(ref _remaining, subscribers);
            return _done.Task;
        }

        public Task SendEventsAsync(string connectionId, string subscriptionId, List<LogEntry> batch, CancellationToken cancellationToken)
        {
            var (subscription, buffer, stalled) = _byId[subscriptionId];
            if (stalled)
            {
                return _never.Task.WaitAsync(cancellationToken);
            }

            buffer.ResetWrittenCount();
            Json.WriteMessage(new InvocationMessage(EventsFrameProtocol.Target, [subscriptionId, new EventBatch(batch)]), buffer);

            subscription.Ask(batch.Count);
            if (batch[^1].Sequence >= Volatile.Read(ref _target) && Interlocked.Decrement(ref _remaining) == 0)
            {
                _done.TrySetResult();
            }

            return Task.CompletedTask;
        }

        public Task SendGapAsync(string connectionId, string subscriptionId, GapNotice gap, CancellationToken cancellationToken) =>
            throw new InvalidOperationException($"{subscriptionId} was lapped by the log: raise the retention ({owner.Subscribers} subscribers)");

        public Task SendEndedAsync(string connectionId, string subscriptionId, EndedNotice ended, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
