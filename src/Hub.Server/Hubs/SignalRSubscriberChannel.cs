using Hub.Server.Log;
using Hub.Server.Subscriptions;
using Microsoft.AspNetCore.SignalR;

namespace Hub.Server.Hubs;

/// <summary>Writes a subscription's messages to its SignalR connection; each task completes when that connection's
/// transport has taken the message, so only the writing stage waits on a slow socket.</summary>
internal sealed class SignalRSubscriberChannel(IHubContext<EventsHub> hub) : ISubscriberChannel
{
    public Task SendEventsAsync(string connectionId, string subscriptionId, List<LogEntry> batch, CancellationToken cancellationToken) =>
        hub.Clients.Client(connectionId).SendAsync("events", subscriptionId, new EventBatch(batch), cancellationToken);

    public Task SendGapAsync(string connectionId, string subscriptionId, GapNotice gap, CancellationToken cancellationToken) =>
        hub.Clients.Client(connectionId).SendAsync("gap", subscriptionId, gap, cancellationToken);

    public Task SendEndedAsync(string connectionId, string subscriptionId, EndedNotice ended, CancellationToken cancellationToken) =>
        hub.Clients.Client(connectionId).SendAsync("ended", subscriptionId, ended, cancellationToken);
}
