using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Hub.Log;
using Hub.Server.Subscriptions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Hub.Benchmarks;

/// <summary>
/// A four-member demand group on the hub's own path (log → group → members' sends), with and without one slow member:
/// the group's events/s should follow its fast members, the slow one getting fewer events. One operation is one event
/// handled by the group (by whichever member). Each member acknowledges a batch as soon as it is "sent" (Ask, as a
/// client that handled it would); the slow one first waits 10 ms per batch, with a window of 10.
/// </summary>
[MemoryDiagnoser]
public class GroupBenchmarks
{
    /// <summary>Events per invocation.</summary>
    public const int Events = 200_000;

    private const int PublishBatch = 500;
    private LogTail _log = null!;
    private SubscriptionRegistry _registry = null!;
    private AckingChannel _channel = null!;
    private EventDraft[] _batch = null!;

    [Params(false, true)]
    public bool OneSlow { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var logOptions = new EventLogOptions { Retention = new() { MaxEvents = 1_000_000 } };
        _log = new LogTail(new MemoryEventLog(Options.Create(logOptions)), logOptions, MemoryEventLog.TailCapacity(logOptions));
        _channel = new AckingChannel(this);
        _registry = new SubscriptionRegistry(_log, _channel, Options.Create(new DeliveryOptions()), NullLogger<Subscription>.Instance);
        var body = Encoding.UTF8.GetBytes("""{"topic":"jobs.print","type":"job","id":null,"key":null,"time":"2026-11-22T00:00:00Z","data":{"job":12345},"headers":null}""");
        _batch = Enumerable.Range(0, PublishBatch).Select(_ => new EventDraft("jobs.print", "job", null, null, DateTimeOffset.UtcNow, body)).ToArray();
        for (var i = 0; i < 4; i++)
        {
            var slow = OneSlow && i == 3;
            var request = SubscribeRequest.Parse(JsonDocument.Parse(slow
                ? """{"topics":["jobs.>"],"group":"workers","dispatch":"demand","maxDemand":10}"""
                : """{"topics":["jobs.>"],"group":"workers","dispatch":"demand","maxDemand":100}""").RootElement);
            var member = _registry.Create(slow ? "slow" : $"fast{i}", request);
            _channel.Register(member, slow);
            member.Start();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var member in _registry.All.ToArray())
        {
            member.End("shutdown", notify: false);
        }
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public async Task FourMemberDemandGroup()
    {
        var done = _channel.Expect(Events);
        for (var published = 0; published < Events; published += PublishBatch)
        {
            await _log.AppendAsync(_batch);
        }

        await done.WaitAsync(TimeSpan.FromSeconds(120));
    }

    /// <summary>How many events the slow member took in the last invocation (printed by the smoke run).</summary>
    public long SlowShare => _channel.SlowShare;

    /// <summary>Acknowledges each batch as a client that handled it would, and counts the group's events.</summary>
    private sealed class AckingChannel(GroupBenchmarks owner) : ISubscriberChannel
    {
        private readonly Dictionary<string, (ISubscription Member, bool Slow)> _byId = [];
        private TaskCompletionSource _done = new();
        private long _remaining;
        private long _slowShare;

        public long SlowShare => Volatile.Read(ref _slowShare);

        public void Register(ISubscription member, bool slow) => _byId[member.Id] = (member, slow);

        public Task Expect(long events)
        {
            _done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _slowShare, 0);
            Volatile.Write(ref _remaining, events);
            return _done.Task;
        }

        public async Task SendEventsAsync(string connectionId, string subscriptionId, List<LogEntry> batch, CancellationToken cancellationToken)
        {
            var (member, slow) = _byId[subscriptionId];
            if (slow)
            {
                await Task.Delay(10, cancellationToken);
                Interlocked.Add(ref _slowShare, batch.Count);
            }

            member.Ask(batch.Count);
            if (Interlocked.Add(ref _remaining, -batch.Count) == 0)
            {
                _done.TrySetResult();
            }
        }

        public Task SendGapAsync(string connectionId, string subscriptionId, GapNotice gap, CancellationToken cancellationToken) =>
            throw new InvalidOperationException($"the group was lapped by the log (one slow: {owner.OneSlow})");

        public Task SendEndedAsync(string connectionId, string subscriptionId, EndedNotice ended, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
