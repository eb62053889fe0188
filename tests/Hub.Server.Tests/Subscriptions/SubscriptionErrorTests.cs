using Hub.Server.Hubs;
using Hub.Log;
using Hub.Server.Subscriptions;
using Hub.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Server.Tests.Subscriptions;

/// <summary>
/// A subscription that ends because of a server-side error tells its client <c>ended {"reason": "error"}</c> instead of
/// going quiet, and only it ends: the connection's other subscriptions, and the publisher, go on. The error here is a
/// write the hub cannot make (the channel to the connection throws for one event), on a real hub over real WebSockets.
/// </summary>
public sealed class SubscriptionErrorTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static Task<TestHub> StartAsync() => TestHub.StartAsync(configure: builder =>
        builder.Services.AddSingleton<ISubscriberChannel>(sp => new PoisonedChannel(ActivatorUtilities.CreateInstance<SignalRSubscriberChannel>(sp))));

    [Fact]
    public async Task SubscriptionWhosePumpFails_IsEndedWithReasonError_AndTheConnectionsOtherSubscriptionGoesOn()
    {
        await using var hub = await StartAsync();
        await using var client = await hub.ConnectAsync();
        var failing = await client.SubscribeAsync(new SubscribeArgs(["t.>"]));
        var other = await client.SubscribeAsync(new SubscribeArgs(["ok"]));

        var first = await hub.PublishAsync(new[] { new { topic = "t.fine" } });
        await failing.WaitForCountAsync(1, Deadline);
        await hub.PublishAsync(new[] { new { topic = PoisonedChannel.Topic } });
        await failing.WaitForEndedAsync(Deadline);
        Assert.Equal("error", failing.EndedReason);
        Assert.Equal(first, failing.Sequences);

        var later = await hub.PublishAsync(new[] { new { topic = "ok" }, new { topic = "ok" } });
        await other.WaitForCountAsync(2, Deadline);
        Assert.Equal(later, other.Sequences);
        Assert.Null(other.EndedReason);
        await Eventually.TrueAsync(async () => (await hub.GetSubscriptionsAsync()).Select(s => s.GetProperty("id").GetString()).SequenceEqual([other.Id]), "only the other subscription is live", Deadline);
        Assert.Empty(client.Unexpected);
    }

    [Fact]
    public async Task GroupMemberWhoseSendFails_IsEndedWithReasonError()
    {
        await using var hub = await StartAsync();
        await using var client = await hub.ConnectAsync();
        var member = await client.SubscribeAsync(new SubscribeArgs(["t.>"], Group: "g", Dispatch: "demand"), (s, n) => _ = client.AskAsync(s, n));

        var first = await hub.PublishAsync(new[] { new { topic = "t.fine" } });
        await member.WaitForCountAsync(1, Deadline);
        await hub.PublishAsync(new[] { new { topic = PoisonedChannel.Topic } });
        await member.WaitForEndedAsync(Deadline);
        Assert.Equal("error", member.EndedReason);
        Assert.Equal(first, member.Sequences);
        await Eventually.TrueAsync(async () => (await hub.GetSubscriptionsAsync()).Length == 0, "the member is gone from the live subscriptions", Deadline);
        Assert.Empty(client.Unexpected);
    }

    /// <summary>The hub's own channel, except that a batch with an event on <see cref="Topic"/> cannot be written.</summary>
    private sealed class PoisonedChannel(ISubscriberChannel inner) : ISubscriberChannel
    {
        public const string Topic = "t.poison";

        public Task SendEventsAsync(string connectionId, string subscriptionId, List<LogEntry> batch, CancellationToken cancellationToken) =>
            batch.Exists(e => e.Topic == Topic)
                ? throw new InvalidOperationException("this batch cannot be written to the connection")
                : inner.SendEventsAsync(connectionId, subscriptionId, batch, cancellationToken);

        public Task SendGapAsync(string connectionId, string subscriptionId, GapNotice gap, CancellationToken cancellationToken) =>
            inner.SendGapAsync(connectionId, subscriptionId, gap, cancellationToken);

        public Task SendEndedAsync(string connectionId, string subscriptionId, EndedNotice ended, CancellationToken cancellationToken) =>
            inner.SendEndedAsync(connectionId, subscriptionId, ended, cancellationToken);
    }
}
