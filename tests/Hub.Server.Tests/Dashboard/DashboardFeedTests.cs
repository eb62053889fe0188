using System.Text.Json;
using Hub.Server.Dashboard;
using Hub.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Server.Tests.Dashboard;

/// <summary>The dashboard feed: snapshots taken from the hub's own figures, streamed over <c>/hubs/dashboard</c>.</summary>
public sealed class DashboardFeedTests
{
    [Fact]
    public async Task Snapshot_CountsPublishedAndDelivered_AndListsSubscriptionsLaggardsFirst()
    {
        await using var hub = await TestHub.StartAsync();
        var feed = hub.Services.GetRequiredService<DashboardFeed>();
        await using var client = await hub.ConnectAsync();
        var keeping = await client.SubscribeAsync(new SubscribeArgs(["feed.*"], MaxDemand: 100));
        var starved = await client.SubscribeAsync(new SubscribeArgs(["feed.*"], Demand: "manual", MaxDemand: 100));

        var before = feed.Latest;
        await hub.PublishManyAsync("feed.a", 30);
        await keeping.WaitForCountAsync(30);
        feed.Tick();
        var snapshot = feed.Latest;

        Assert.NotSame(before, snapshot);
        Assert.Equal(30, snapshot.Published - before.Published);
        Assert.True(snapshot.Delivered - before.Delivered >= 30, $"delivered {snapshot.Delivered - before.Delivered}");
        Assert.True(snapshot.Head >= 30);
        Assert.Equal(2, snapshot.SubscriptionCount);
        Assert.Equal(1, snapshot.Connections);
        // The manual one holds no credits, so it lags by the 30 events; it comes first.
        Assert.Equal([starved.Id, keeping.Id], snapshot.Subscriptions.Select(s => s.Id));
        Assert.Equal(30, snapshot.Subscriptions[0].Lag);
        Assert.Equal(0, snapshot.Subscriptions[0].Credits);
        Assert.Equal(70, snapshot.Subscriptions[1].Credits);
        Assert.Contains(snapshot.Topics, t => t.Topic == "feed.a" && t.Count == 30);
        // The feed also ticks by itself; whichever tick came first after the publish saw its rate.
        Assert.Contains(feed.History(), p => p.Time > before.Time && p.PublishedPerSecond > 0);
        Assert.Contains(feed.History(), p => p.Time == snapshot.Time);
    }

    [Fact]
    public async Task Snapshot_OfMoreSubscriptionsThanItLists_ListsTheMostLaggingInTheApisOrder_AndCountsThemAll()
    {
        await using var hub = await TestHub.StartAsync();
        var feed = hub.Services.GetRequiredService<DashboardFeed>();
        var registry = hub.Services.GetRequiredService<Hub.Server.Subscriptions.SubscriptionRegistry>();
        await using var first = await hub.ConnectAsync();
        await using var second = await hub.ConnectAsync();

        // Five rounds of 30 manual subscriptions (no credits, so none moves), an event published after each round: the
        // rounds lag by 5, 4, 3, 2 and 1. The 100 listed are the first three rounds and 10 of the fourth, chosen by id.
        for (var round = 0; round < 5; round++)
        {
            for (var i = 0; i < 30; i++)
            {
                await (i % 2 == 0 ? first : second).SubscribeAsync(new SubscribeArgs(["lag.*"], Demand: "manual", MaxDemand: 10));
            }

            await hub.PublishManyAsync("lag.a", 1);
        }

        feed.Tick();
        var snapshot = feed.Latest;

        Assert.Equal(150, snapshot.SubscriptionCount);
        Assert.Equal(DashboardFeed.MaxRows, snapshot.Subscriptions.Count);
        var api = registry.Snapshot().Subscriptions;
        Assert.Equal(api.Take(DashboardFeed.MaxRows).Select(s => (s.Id, s.Lag)), snapshot.Subscriptions.Select(s => (s.Id, s.Lag)));
        Assert.Equal([5, 4, 3, 2], snapshot.Subscriptions.Select(s => s.Lag).Distinct());
        Assert.Equal(10, snapshot.Subscriptions.Count(s => s.Lag == 2));
    }

    [Fact]
    public async Task Watch_StreamsTheLatestSnapshotAtOnce_ThenEachNewOne()
    {
        await using var hub = await TestHub.StartAsync();
        var feed = hub.Services.GetRequiredService<DashboardFeed>();
        await using var dashboard = await HubClient.ConnectAsync(hub.Address, "hubs/dashboard");
        var items = await dashboard.StreamAsync("Watch");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var first = await items.ReadAsync(timeout.Token);
        Assert.True(first.TryGetProperty("head", out _), first.GetRawText());

        // An event published now shows in a later snapshot (the feed ticks once a second; Tick() makes one now).
        await hub.PublishManyAsync("watch.me", 1);
        feed.Tick();
        JsonElement item;
        do
        {
            item = await items.ReadAsync(timeout.Token);
        }
        while (!item.GetProperty("topics").EnumerateArray().Any(t => t.GetProperty("topic").GetString() == "watch.me"));

        Assert.Equal(1, item.GetProperty("published").GetInt64());
        Assert.Empty(dashboard.Unexpected);
    }

    [Fact]
    public async Task History_AnswersTheRecentRates_OldestFirst()
    {
        await using var hub = await TestHub.StartAsync();
        var feed = hub.Services.GetRequiredService<DashboardFeed>();
        feed.Tick();
        feed.Tick();
        await using var dashboard = await HubClient.ConnectAsync(hub.Address, "hubs/dashboard");

        var history = (await dashboard.InvokeAsync("History")).EnumerateArray().ToArray();

        Assert.True(history.Length >= 2);
        var times = history.Select(p => p.GetProperty("time").GetDateTimeOffset()).ToArray();
        Assert.Equal(times.Order(), times);
    }
}
