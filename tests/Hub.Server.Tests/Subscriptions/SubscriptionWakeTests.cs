using System.Text.Json;
using Hub.Log;
using Hub.Server.Subscriptions;
using Hub.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Hub.Server.Tests.Subscriptions;

/// <summary>What wakes a parked subscription's pump: an append when it holds credits, an <c>Ask</c> when it holds none;
/// an <c>Ask</c> to one that is caught up with credits to spare queues no run.</summary>
public sealed class SubscriptionWakeTests : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private readonly EventLogOptions _options = new() { Retention = new() { MaxEvents = 1_000 } };
    private readonly LogTail _log;
    private readonly RecordingChannel _channel = new();

    public SubscriptionWakeTests() =>
        _log = new LogTail(new MemoryEventLog(Options.Create(_options)), _options, MemoryEventLog.TailCapacity(_options));

    public async ValueTask DisposeAsync() => await _log.DisposeAsync();

    [Fact]
    public async Task Ask_ToAParkedPumpCaughtUpWithCredits_LeavesItParked_AndTheNextAppendIsDeliveredWithTheCredits()
    {
        var subscription = Start("""{"topics":["a"],"maxDemand":2,"minDemand":1}""");
        await Eventually.TrueAsync(() => Task.FromResult(subscription.IsParked), "the pump parks, caught up", Deadline);

        subscription.Ask(3);
        Assert.True(subscription.IsParked); // no run queued: nothing to send

        var appended = await _log.AppendAsync([Draft("a"), Draft("a"), Draft("a"), Draft("a"), Draft("a")]);
        await Eventually.TrueAsync(() => Task.FromResult(_channel.Sequences.Count == 5), "the 5 events, within 2 + 3 credits", Deadline);
        Assert.Equal(appended.Select(a => a.Sequence), _channel.Sequences);
        Assert.Equal(0, subscription.Credits);
    }

    [Fact]
    public async Task Ask_ToAParkedPumpWithoutCredits_RunsIt_AndWhatWaitsIsDelivered()
    {
        var subscription = Start("""{"topics":["a"],"demand":"manual","maxDemand":10,"minDemand":5}""");
        var appended = await _log.AppendAsync([Draft("a"), Draft("a")]);
        await Eventually.TrueAsync(() => Task.FromResult(subscription.IsParked), "the pump parks without credits", Deadline);
        Assert.Empty(_channel.Sequences);

        subscription.Ask(2);
        await Eventually.TrueAsync(() => Task.FromResult(_channel.Sequences.Count == 2), "the 2 waiting events", Deadline);
        Assert.Equal(appended.Select(a => a.Sequence), _channel.Sequences);
    }

    private Subscription Start(string request)
    {
        var subscription = new Subscription("sub_1", "s", "c", SubscribeRequest.Parse(JsonDocument.Parse(request).RootElement), _log.Head, _log, _channel,
            DeliveryOptions.DefaultMaxBatchBytes, NullLogger.Instance, static _ => { }, new Hub.Server.Telemetry.HubMetrics());
        subscription.Start();
        return subscription;
    }

    private static EventDraft Draft(string topic) => new(topic, null, null, null, DateTimeOffset.UtcNow, "{\"topic\":\"a\"}"u8.ToArray());

    private sealed class RecordingChannel : ISubscriberChannel
    {
        private readonly Lock _gate = new();
        private readonly List<long> _sequences = [];

        public IReadOnlyList<long> Sequences
        {
            get
            {
                lock (_gate)
                {
                    return [.. _sequences];
                }
            }
        }

        public Task SendEventsAsync(string connectionId, string subscriptionId, List<LogEntry> batch, CancellationToken cancellationToken)
        {
            lock (_gate)
            {
                _sequences.AddRange(batch.Select(e => e.Sequence));
            }

            return Task.CompletedTask;
        }

        public Task SendGapAsync(string connectionId, string subscriptionId, GapNotice gap, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task SendEndedAsync(string connectionId, string subscriptionId, EndedNotice ended, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
