extern alias client;

using client::Hub.Client;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests;

/// <summary>Past the retention, each subscriber's overflow policy applies; a reconnect with <c>after</c> resumes. Subscribed
/// with the .NET client, except where a socket must stop reading or a client must stop asking on purpose.</summary>
public sealed class OverflowTests
{
    private static Task<TestHub> StartAsync(int retention) => TestHub.StartAsync(new Dictionary<string, string?>
    {
        ["Hub:Log:Retention:MaxEvents"] = retention.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    [Fact]
    public async Task LaggingSubscriber_WithDropOldest_GetsAGap_ThenTheRetainedEvents()
    {
        await using var hub = await StartAsync(100);
        await using var client = hub.NewClient();
        await using var subscription = await ClientSubscription.OpenAsync(client, new SubscribeRequest(">") { Demand = DemandMode.Manual });
        var published = await hub.PublishManyAsync("t", 300);
        subscription.Subscription.Ask(1000);
        await subscription.WaitForCountAsync(100);

        // The gap, typed, before the retained events; nothing else.
        object[] expected = [new HubGap(published[0], published[199], "overflow"), .. published[200..].Select(s => (object)s)];
        Assert.Equal(expected, subscription.Messages.Select(m => m is HubEvent e ? e.Sequence : (object)m));
        Assert.Equal(published[^1], subscription.Subscription.LastSequence);
        subscription.AssertTheHubKeptToTheProtocol();
        var info = await subscription.FindOnHubAsync(hub);
        Assert.Equal(200, info.GetProperty("dropped").GetInt64());
    }

    [Fact]
    public async Task LaggingSubscriber_WithDisconnect_IsEnded()
    {
        await using var hub = await StartAsync(100);
        await using var client = hub.NewClient();
        await using var subscription = await ClientSubscription.OpenAsync(client, new SubscribeRequest(">") { Demand = DemandMode.Manual, Overflow = OverflowPolicy.Disconnect });
        await hub.PublishManyAsync("t", 150);
        subscription.Subscription.Ask(10);
        await subscription.WaitForEndedAsync();
        Assert.Equal([new HubEnded("overflow")], subscription.Messages);
        Assert.Empty(client.Subscriptions); // over: the client does not resume it
        await Eventually.TrueAsync(async () => (await hub.GetSubscriptionsAsync()).Length == 0, "the ended subscription is gone");
    }

    [Fact]
    public async Task StalledSocket_WithDisconnect_IsDisconnected_OnceTheLogMovesPastIt_WhileDropOldestStays()
    {
        await using var hub = await StartAsync(500);
        await using var disconnecting = await hub.ConnectAsync();
        var gone = await disconnecting.SubscribeAsync(new SubscribeArgs([">"], MaxDemand: 1_000_000, Overflow: "disconnect"));
        disconnecting.StopReading();
        await using var dropping = await hub.ConnectAsync();
        var stays = await dropping.SubscribeAsync(new SubscribeArgs([">"], MaxDemand: 1_000_000));
        dropping.StopReading();

        // Publish until the stalled socket's buffers are full and the log has moved past it (bounded: 40 MB at most).
        async Task<bool> FellBehind() =>
            (await hub.GetSubscriptionsAsync()).Any(s => s.GetProperty("id").GetString() == gone.Id && s.GetProperty("lag").GetInt64() > 2 * 500);
        for (var i = 0; i < 400 && !await FellBehind(); i++)
        {
            await hub.PublishManyAsync("t", 100, payloadBytes: 1024);
        }

        // Its stage is stuck in a write and cannot see it fell behind; the sweeper does, and closes the connection.
        await Eventually.TrueAsync(
            async () => !(await hub.GetSubscriptionsAsync()).Any(s => s.GetProperty("id").GetString() == gone.Id),
            "the stalled disconnect-policy subscription is ended");
        var left = await hub.GetSubscriptionsAsync();
        Assert.DoesNotContain(left, s => s.GetProperty("id").GetString() == gone.Id);
        Assert.Contains(left, s => s.GetProperty("id").GetString() == stays.Id);

        // The hub goes on serving a well-behaved client.
        await using var fresh = await hub.ConnectAsync();
        var witness = await fresh.SubscribeAsync(new SubscribeArgs([">"]));
        await hub.PublishManyAsync("t", 3);
        await witness.WaitForCountAsync(3);
    }

    [Fact]
    public async Task ReplayFromBeforeTheRetention_GetsARetentionGap()
    {
        await using var hub = await StartAsync(50);
        var published = await hub.PublishManyAsync("t", 80);
        await using var client = hub.NewClient();
        await using var subscription = await ClientSubscription.OpenAsync(client, new SubscribeRequest(">") { After = 0 });
        await subscription.WaitForCountAsync(50);
        object[] expected = [new HubGap(published[0], published[29], "retention"), .. published[30..].Select(s => (object)s)];
        Assert.Equal(expected, subscription.Messages.Select(m => m is HubEvent e ? e.Sequence : (object)m));
        subscription.AssertTheHubKeptToTheProtocol();
    }

    [Fact]
    public async Task ReplayFromBeforeTheRetention_WithDisconnect_IsEndedForRetention()
    {
        await using var hub = await StartAsync(50);
        await hub.PublishManyAsync("t", 80);
        await using var client = hub.NewClient();
        await using var subscription = await ClientSubscription.OpenAsync(client, new SubscribeRequest(">") { After = 10, Overflow = OverflowPolicy.Disconnect });
        await subscription.WaitForEndedAsync();
        Assert.Equal([new HubEnded("retention")], subscription.Messages);
    }

    [Fact]
    public async Task StalledSubscriber_ReconnectingWithAfter_GetsWhatItMissed()
    {
        await using var hub = await StartAsync(1000);
        var client = await hub.ConnectAsync();
        var log = await client.SubscribeAsync(new SubscribeArgs(["t"], Demand: "manual"));
        await hub.PublishManyAsync("t", 30);
        await client.AskAsync(log, 12);
        await log.WaitForCountAsync(12);
        var last = log.Sequences[^1];
        await client.DisposeAsync();

        await hub.PublishManyAsync("t", 30);
        await using var again = await hub.ConnectAsync();
        var resumed = await again.SubscribeAsync(new SubscribeArgs(["t"], After: last));
        await resumed.WaitForCountAsync(48);
        Assert.Equal(Enumerable.Range(13, 48).Select(i => (long)i), resumed.Sequences);
        Assert.Empty(resumed.Gaps);
    }
}
