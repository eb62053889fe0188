using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests.Groups;

/// <summary>
/// Groups under the same bounds as subscribers, over real WebSockets: batches bounded by
/// <c>Hub:Subscriptions:MaxBatchBytes</c>, a stalled member handled by its overflow policy, and a group that falls behind
/// the retention telling each member by its own policy (a gap, or ended).
/// </summary>
public sealed class GroupBoundsTests
{
    private static Task<TestHub> StartAsync(int? retention = null, int? maxBatchBytes = null)
    {
        var settings = new Dictionary<string, string?>();
        if (retention is { } r)
        {
            settings["Hub:Log:Retention:MaxEvents"] = r.ToString(CultureInfo.InvariantCulture);
        }

        if (maxBatchBytes is { } b)
        {
            settings["Hub:Subscriptions:MaxBatchBytes"] = b.ToString(CultureInfo.InvariantCulture);
        }

        return TestHub.StartAsync(settings);
    }

    /// <summary>A member that acknowledges each batch as soon as it has it.</summary>
    private static Task<SubscriptionLog> JoinAsync(HubClient client, string group, int maxDemand = 100, string overflow = "dropOldest") =>
        client.SubscribeAsync(new SubscribeArgs(["work.*"], MaxDemand: maxDemand, Overflow: overflow, Group: group), (log, n) => _ = client.AskAsync(log, n));

    private static int Bytes(JsonElement e) => Encoding.UTF8.GetByteCount(e.GetRawText());

    /// <summary>Each batch stopped growing once it reached <paramref name="maxBytes"/>: all its events but the last are under it.</summary>
    private static void AssertBatchesBoundedBy(SubscriptionLog log, int maxBytes)
    {
        var events = log.Events;
        var at = 0;
        Assert.NotEmpty(log.BatchSizes);
        foreach (var size in log.BatchSizes)
        {
            var allButLast = events.Skip(at).Take(size - 1).Sum(Bytes);
            Assert.True(allButLast < maxBytes, $"a batch of {size} events went on past {maxBytes} bytes ({allButLast} before its last)");
            at += size;
        }
    }

    [Fact]
    public async Task MaxBatchBytes_BoundsEachBatchOfABroadcastSubscriber()
    {
        await using var hub = await StartAsync(maxBatchBytes: 4096);
        var published = await hub.PublishManyAsync("work.item", 60, payloadBytes: 1000);
        await using var client = await hub.ConnectAsync();
        var log = await client.SubscribeAsync(new SubscribeArgs(["work.*"], After: 0, MaxDemand: 1000));
        await log.WaitForCountAsync(60);
        Assert.Equal(published, log.Sequences);
        AssertBatchesBoundedBy(log, 4096);
        Assert.True(log.BatchSizes.Count >= 60 * 1000 / 4096, $"60 KB came in {log.BatchSizes.Count} batches");
    }

    [Fact]
    public async Task MaxBatchBytes_BoundsEachBatchOfAGroupMember_EvenWhenARedeliveryHandsItManyAtOnce()
    {
        await using var hub = await StartAsync(maxBatchBytes: 4096);
        await using var holderClient = await hub.ConnectAsync();
        await using var takerClient = await hub.ConnectAsync();

        // The holder takes 60 events of 1 KB and never acknowledges them; the taker joins with no credits.
        var holder = await holderClient.SubscribeAsync(new SubscribeArgs(["work.*"], MaxDemand: 1000, Group: "bytes"));
        var taker = await takerClient.SubscribeAsync(new SubscribeArgs(["work.*"], MaxDemand: 1000, Demand: "manual", Group: "bytes"));
        var published = await hub.PublishManyAsync("work.item", 60, payloadBytes: 1000);
        await holder.WaitForCountAsync(60);
        AssertBatchesBoundedBy(holder, 4096);

        // The holder leaves: its 60 go back to the group at once, and the taker, asking for all of them, still gets them
        // in batches of at most 4 KB (one batch of 60 if the bound were ignored).
        await holderClient.UnsubscribeAsync(holder);
        await takerClient.AskAsync(taker, 1000);
        await taker.WaitForCountAsync(60);
        Assert.Equal(published, taker.Sequences);
        Assert.All(taker.Events, e => Assert.True(e.GetProperty("redelivered").GetBoolean()));
        AssertBatchesBoundedBy(taker, 4096);
        Assert.True(taker.BatchSizes.Count >= 60 * 1000 / 4096, $"60 KB came in {taker.BatchSizes.Count} batches");
    }

    [Fact]
    public async Task StalledMember_WithDisconnect_IsEndedOnceTheGroupIsBehindTheRetention_ItsEventsGoToTheOthers_WhileDropOldestStays()
    {
        await using var hub = await StartAsync(retention: 500);
        await using var readerClient = await hub.ConnectAsync();
        await using var disconnectingClient = await hub.ConnectAsync();
        await using var droppingClient = await hub.ConnectAsync();
        var reader = await JoinAsync(readerClient, "stall");
        var gone = await disconnectingClient.SubscribeAsync(new SubscribeArgs(["work.*"], MaxDemand: 1_000_000, Overflow: "disconnect", Group: "stall"));
        disconnectingClient.StopReading();
        var stays = await droppingClient.SubscribeAsync(new SubscribeArgs(["work.*"], MaxDemand: 1_000_000, Group: "stall"));
        droppingClient.StopReading();

        // Publish until the stalled members' sockets are full, they hold events unacknowledged while the log moves past
        // the retention, and the disconnect one is ended (bounded: 40 MB at most).
        var published = new List<long>();
        async Task<bool> Gone() => !(await hub.GetSubscriptionsAsync()).Any(s => s.GetProperty("id").GetString() == gone.Id);
        for (var i = 0; i < 400 && !await Gone(); i++)
        {
            published.AddRange(await hub.PublishManyAsync("work.item", 100, payloadBytes: 1024));
        }

        // The sweeper ends a member once it has sent nothing for its stall time while the group is behind the retention:
        // if the publishes above were quicker than that, it happens after them.
        await Eventually.TrueAsync(Gone, "the stalled disconnect-policy member is ended", TimeSpan.FromSeconds(30));
        var left = await hub.GetSubscriptionsAsync();
        var stalled = Assert.Single(left, s => s.GetProperty("id").GetString() == stays.Id);
        Assert.Contains(left, s => s.GetProperty("id").GetString() == reader.Id);

        // What the ended member held went to the reader (the dropOldest member's outbox is full: it takes no more); so the
        // reader has every event but those the stalled dropOldest member holds, each once.
        var held = 0;
        await Eventually.TrueAsync(async () =>
        {
            held = (await hub.GetSubscriptionAsync(stays.Id)).GetProperty("inFlight").GetInt32();
            return reader.Count + held == published.Count;
        }, "the reader gets everything the stalled dropOldest member does not hold", TimeSpan.FromSeconds(60));
        Assert.True(held > 0, "the dropOldest member holds events it has not acknowledged");
        Assert.Equal(reader.Count, reader.Sequences.Distinct().Count());
        Assert.Subset(published.ToHashSet(), reader.Sequences.ToHashSet());
        Assert.Contains(reader.Events, e => e.TryGetProperty("redelivered", out var r) && r.GetBoolean());
        Assert.Equal("dropOldest", stalled.GetProperty("overflow").GetString());
    }

    [Fact]
    public async Task GroupFallingBehindTheRetention_DropOldestMembersGetAnOverflowGap_DisconnectMembersAreEnded()
    {
        await using var hub = await StartAsync(retention: 100);
        await using var client = await hub.ConnectAsync();
        var dropping = await client.SubscribeAsync(new SubscribeArgs(["work.*"], MaxDemand: 1000, Demand: "manual", Group: "late"));
        var disconnecting = await client.SubscribeAsync(new SubscribeArgs(["work.*"], MaxDemand: 1000, Demand: "manual", Overflow: "disconnect", Group: "late"));

        // Nobody asks: the group reads nothing while 300 events go by, 200 of them past the retention.
        var published = await hub.PublishManyAsync("work.item", 300);
        await client.AskAsync(dropping, 1000);

        await dropping.WaitForCountAsync(100);
        var gap = Assert.Single(dropping.Gaps);
        Assert.Equal((published[0], published[199], "overflow"), (gap.GetProperty("from").GetInt64(), gap.GetProperty("to").GetInt64(), gap.GetProperty("reason").GetString()));
        Assert.Equal(published[200..], dropping.Sequences);
        await disconnecting.WaitForEndedAsync();
        Assert.Equal("overflow", disconnecting.EndedReason);
        Assert.Equal(0, disconnecting.Count);
        Assert.Empty(disconnecting.Gaps);
        await Eventually.TrueAsync(async () => (await hub.GetSubscriptionsAsync()).Select(s => s.GetProperty("id").GetString()).SequenceEqual([dropping.Id]),
            "only the dropOldest member is left");
        var group = Assert.Single(await hub.Http.GetFromJsonAsync<JsonElement[]>("api/groups") ?? []);
        Assert.Equal(published[^1], group.GetProperty("cursor").GetInt64());
    }

    [Fact]
    public async Task GroupStartingBeforeTheRetention_TellsItsMembersRetention_AGapOrEnded()
    {
        await using var hub = await StartAsync(retention: 50);
        var published = await hub.PublishManyAsync("work.item", 80);
        await using var client = await hub.ConnectAsync();

        var replaying = await client.SubscribeAsync(new SubscribeArgs(["work.*"], After: 0, MaxDemand: 100, Group: "replay"));
        await replaying.WaitForCountAsync(50);
        var gap = Assert.Single(replaying.Gaps);
        Assert.Equal((published[0], published[29], "retention"), (gap.GetProperty("from").GetInt64(), gap.GetProperty("to").GetInt64(), gap.GetProperty("reason").GetString()));
        Assert.Equal(published[30..], replaying.Sequences);

        var ended = await client.SubscribeAsync(new SubscribeArgs(["work.*"], After: 10, MaxDemand: 100, Overflow: "disconnect", Group: "strict"));
        await ended.WaitForEndedAsync();
        Assert.Equal(("retention", 0), (ended.EndedReason, ended.Count));
    }
}
