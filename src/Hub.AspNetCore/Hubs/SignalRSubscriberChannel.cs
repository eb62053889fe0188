using System.Diagnostics;
using Hub.Log;
using Hub.Server.Subscriptions;
using Hub.Server.Telemetry;
using Microsoft.AspNetCore.SignalR;

namespace Hub.Server.Hubs;

/// <summary>Writes a subscription's messages to its SignalR connection; each task completes when that connection's
/// transport has taken the message, so only the writing stage waits on a slow socket. Each batch of events is one
/// <c>hub deliver</c> span and one latency measurement per event, when someone listens.</summary>
internal sealed class SignalRSubscriberChannel(IHubContext<EventsHub> hub, HubMetrics metrics, TimeProvider time) : ISubscriberChannel
{
    public Task SendEventsAsync(string connectionId, string subscriptionId, List<LogEntry> batch, CancellationToken cancellationToken) =>
        HubTracing.Source.HasListeners() || metrics.LatencyEnabled
            ? SendObservedAsync(connectionId, subscriptionId, batch, cancellationToken)
            : Send(connectionId, subscriptionId, batch, cancellationToken);

    public Task SendGapAsync(string connectionId, string subscriptionId, GapNotice gap, CancellationToken cancellationToken) =>
        hub.Clients.Client(connectionId).SendAsync("gap", subscriptionId, gap, cancellationToken);

    public Task SendEndedAsync(string connectionId, string subscriptionId, EndedNotice ended, CancellationToken cancellationToken) =>
        hub.Clients.Client(connectionId).SendAsync("ended", subscriptionId, ended, cancellationToken);

    private Task Send(string connectionId, string subscriptionId, List<LogEntry> batch, CancellationToken cancellationToken) =>
        hub.Clients.Client(connectionId).SendAsync(EventsFrameProtocol.Target, subscriptionId, new EventBatch(batch), cancellationToken);

    private async Task SendObservedAsync(string connectionId, string subscriptionId, List<LogEntry> batch, CancellationToken cancellationToken)
    {
        // The delivery is a trace of its own (linked to the publishes), not part of the Subscribe call that started the
        // pump; this async method's change to the current activity does not reach its caller.
        Activity.Current = null;
        using var activity = HubTracing.StartDelivery(connectionId, subscriptionId, batch);
        try
        {
            await Send(connectionId, subscriptionId, batch, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (activity is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            throw;
        }

        metrics.RecordDeliveryLatency(batch, time.GetUtcNow());
    }
}
