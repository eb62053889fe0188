extern alias client;

using System.Text.Json;
using client::Hub.Client;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests;

/// <summary>The SignalR hub over real WebSockets: delivery, demand windows, replay, ending. Subscribed as a user does,
/// with the .NET client (<see cref="ClientSubscription"/>), except where the test speaks the protocol itself (exact asks,
/// the order of the answer and the first batch, an <c>after</c> the client would take for a reset log).</summary>
public sealed class EventsHubTests
{
    [Theory]
    [InlineData(HubProtocol.Json)]
    [InlineData(HubProtocol.MessagePack)]
    public async Task Subscribers_ReceiveExactlyTheMatchingEvents_InOrder_WithoutDuplicates(HubProtocol protocol)
    {
        await using var hub = await TestHub.StartAsync();
        // Four subscriptions on one connection of the .NET client, each under the id the client chose.
        await using var client = hub.NewClient(protocol);
        await using var all = await ClientSubscription.OpenAsync(client, new SubscribeRequest("orders.>"));
        await using var eu = await ClientSubscription.OpenAsync(client, new SubscribeRequest("orders.eu.*"));
        await using var created = await ClientSubscription.OpenAsync(client, new SubscribeRequest("orders.*.*", "payments.*") { Types = ["created"] });
        await using var exact = await ClientSubscription.OpenAsync(client, new SubscribeRequest("payments.card"));
        Assert.Equal(4, new[] { all, eu, created, exact }.Select(s => s.Subscription.Id).Distinct().Count());

        var topics = new[] { "orders.eu.1", "orders.us.2", "orders.eu", "payments.card", "payments.card.x", "other" };
        var types = new[] { "created", "shipped", null };
        var published = new List<(long Sequence, string Topic, string? Type)>();
        for (var round = 0; round < 5; round++)
        {
            var batch = topics.SelectMany((t, i) => types.Select(ty => new { topic = t, type = ty, data = new { round, i } })).ToArray();
            var sequences = await hub.PublishAsync(batch);
            published.AddRange(sequences.Select((s, i) => (s, batch[i].topic, batch[i].type)));
        }

        // A last batch that each subscription matches: what it receives up to its last event there is all it will receive.
        var markers = new[] { new { topic = "orders.eu.9", type = (string?)"created" }, new { topic = "payments.card", type = (string?)"created" } };
        var markerSequences = await hub.PublishAsync(markers);
        published.AddRange(markerSequences.Select((s, i) => (s, markers[i].topic, markers[i].type)));

        async Task Expect(ClientSubscription subscription, Func<string, string?, bool> matches)
        {
            var expected = published.Where(p => matches(p.Topic, p.Type)).Select(p => p.Sequence).ToArray();
            Assert.Contains(expected[^1], markerSequences);
            await subscription.WaitForCountAsync(expected.Length);
            Assert.Equal(expected, subscription.Sequences);
            subscription.AssertTheHubKeptToTheProtocol();
        }

        await Expect(all, (t, _) => t.StartsWith("orders.", StringComparison.Ordinal));
        await Expect(eu, (t, _) => t.StartsWith("orders.eu.", StringComparison.Ordinal) && t.Count(c => c == '.') == 2);
        await Expect(created, (t, ty) => ty == "created" && (t.StartsWith("orders.", StringComparison.Ordinal) && t.Count(c => c == '.') == 2 || t == "payments.card"));
        await Expect(exact, (t, _) => t == "payments.card");

        // Delivered events carry the whole envelope, the same over both protocols.
        var first = all.Events[0];
        Assert.Equal(published[0].Sequence, first.Sequence);
        Assert.Equal("orders.eu.1", first.Topic);
        Assert.Equal("created", first.Type);
        Assert.Equal(0, first.Data.GetProperty("round").GetInt32());
        Assert.Equal(0, first.Data.GetProperty("i").GetInt32());
        Assert.Null(first.Id);
        Assert.Null(first.Key);
        Assert.False(first.Redelivered);
        Assert.True(first.Time > DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.Empty(all.Gaps);
        Assert.Null(all.Ended);
    }

    [Fact]
    public async Task ManualDemand_SendsNothingWithoutCredits_ThenExactlyWhatWasAsked()
    {
        await using var hub = await TestHub.StartAsync();
        await using var client = await hub.ConnectAsync();
        var manual = await client.SubscribeAsync(new SubscribeArgs([">"], Demand: "manual"));
        var witness = await client.SubscribeAsync(new SubscribeArgs([">"]));
        await hub.PublishManyAsync("a.b", 20);

        // The witness on the same connection got all 20, so anything the manual one could wrongly get has been sent.
        await witness.WaitForCountAsync(20);
        Assert.Equal(0, manual.Count);
        var info = await hub.GetSubscriptionAsync(manual.Id);
        Assert.Equal(0, info.GetProperty("credits").GetInt64());
        Assert.Equal(20, info.GetProperty("lag").GetInt64());

        await client.AskAsync(manual, 5);
        await manual.WaitForCountAsync(5);
        await client.AskAsync(manual, 3);
        await manual.WaitForCountAsync(8);
        await hub.PublishManyAsync("a.b", 1); // a witness event proves nothing more was queued for the manual one
        await witness.WaitForCountAsync(21);
        Assert.Equal(Enumerable.Range(1, 8).Select(i => (long)i), manual.Sequences);
        Assert.Empty(manual.Violations);
        info = await hub.GetSubscriptionAsync(manual.Id);
        Assert.Equal(0, info.GetProperty("credits").GetInt64());
        Assert.Equal(8, info.GetProperty("delivered").GetInt64());
    }

    [Fact]
    public async Task AutoDemand_NeverExceedsTheCreditsGranted_WhileTheClientReasks()
    {
        await using var hub = await TestHub.StartAsync();
        await using var client = await hub.ConnectAsync();
        const int max = 10, min = 4;
        var log = await client.SubscribeAsync(new SubscribeArgs([">"], MaxDemand: max, MinDemand: min));

        // GenStage's automatic demand on the client: re-ask max - min once that many have been handled.
        var handled = 0;
        log.OnBatch = (s, count) =>
        {
            handled += count;
            while (handled >= max - min)
            {
                handled -= max - min;
                _ = client.AskAsync(s, max - min);
            }
        };

        for (var i = 0; i < 10; i++)
        {
            await hub.PublishManyAsync("t", 37);
        }

        await log.WaitForCountAsync(370);
        Assert.Empty(log.Violations);
        Assert.All(log.BatchSizes, size => Assert.InRange(size, 1, max));
        Assert.Equal(Enumerable.Range(1, 370).Select(i => (long)i), log.Sequences);
    }

    [Fact]
    public async Task Subscribe_WithAfter_ReplaysWhatWasMissed_ThenGoesLive()
    {
        await using var hub = await TestHub.StartAsync();
        long[] firstTen;
        long lastSeen;
        string? epoch;
        await using (var first = hub.NewClient())
        await using (var live = await ClientSubscription.OpenAsync(first, new SubscribeRequest("s.*")))
        {
            firstTen = await hub.PublishManyAsync("s.x", 10);
            await live.WaitForCountAsync(10);
            Assert.Equal(firstTen, live.Sequences);
            lastSeen = live.Subscription.LastSequence!.Value;
            epoch = live.Subscription.Epoch;
        }

        Assert.NotNull(epoch);
        var missed = await hub.PublishManyAsync("s.x", 10);
        await hub.PublishManyAsync("other", 5);
        await using var second = hub.NewClient();
        await using var resumed = await ClientSubscription.OpenAsync(second, new SubscribeRequest("s.*") { After = lastSeen, Epoch = epoch });
        await resumed.WaitForCountAsync(10);
        var liveAgain = await hub.PublishManyAsync("s.y", 3);
        await resumed.WaitForCountAsync(13);
        Assert.Equal([.. missed, .. liveAgain], resumed.Sequences);
        Assert.Equal(epoch, resumed.Subscription.Epoch);
        Assert.Empty(resumed.Messages.OfType<HubReset>());
        resumed.AssertTheHubKeptToTheProtocol();
    }

    [Fact]
    public async Task Subscribe_AnswersBeforeTheFirstEvents_EvenWhenReplaying()
    {
        await using var hub = await TestHub.StartAsync();
        await hub.PublishManyAsync("r", 50);
        await using var client = await hub.ConnectAsync();
        for (var i = 0; i < 20; i++)
        {
            var log = await client.SubscribeAsync(new SubscribeArgs([">"], After: 0));
            await log.WaitForCountAsync(50);
        }

        // An events message for an id not yet answered would show up as an untracked subscription; none did.
        Assert.Empty(client.Unexpected);
    }

    [Fact]
    public async Task Subscribe_AfterBeyondTheHead_FailsNamingAfter_SaysTheLogWasReset_AndCreatesNothing()
    {
        await using var hub = await TestHub.StartAsync();
        await hub.PublishManyAsync("x", 3);
        await using var client = await hub.ConnectAsync();
        var error = await Assert.ThrowsAsync<HubInvocationException>(() => client.SubscribeAsync(new SubscribeArgs([">"], After: 1000)));
        Assert.Contains("after: 1000 is beyond the head of this hub's log (3", error.Message, StringComparison.Ordinal);
        Assert.Contains("the log was reset", error.Message, StringComparison.Ordinal);
        Assert.Empty(await hub.GetSubscriptionsAsync());

        // At the head is not beyond it.
        var log = await client.SubscribeAsync(new SubscribeArgs([">"], After: 3));
        Assert.Equal(3, log.Position);
        await hub.PublishManyAsync("x", 1);
        await log.WaitForCountAsync(1);
        Assert.Equal([4L], log.Sequences);
    }

    [Fact]
    public async Task Unsubscribe_StopsDelivery_AndRemovesTheSubscription()
    {
        await using var hub = await TestHub.StartAsync();
        await using var client = hub.NewClient();
        var gone = await ClientSubscription.OpenAsync(client, new SubscribeRequest(">"));
        await using var witness = await ClientSubscription.OpenAsync(client, new SubscribeRequest(">"));
        var goneId = gone.Subscription.Id;
        var before = await hub.PublishManyAsync("x", 2);
        await gone.WaitForCountAsync(2);
        await gone.DisposeAsync(); // Unsubscribe, answered once the hub sends no more for it
        Assert.Equal(witness.Subscription.Id, Assert.Single(await hub.GetSubscriptionsAsync()).GetProperty("subscriptionId").GetString());
        var after = await hub.PublishManyAsync("x", 2);
        await witness.WaitForCountAsync(4);
        Assert.Equal([.. before, .. after], witness.Sequences);
        Assert.Equal(before, gone.Sequences);
        Assert.Null(gone.Ended);
        Assert.DoesNotContain(await hub.GetSubscriptionsAsync(), s => s.GetProperty("subscriptionId").GetString() == goneId);
    }

    [Fact]
    public async Task DeleteSubscription_EndsIt_AndTellsTheClient()
    {
        await using var hub = await TestHub.StartAsync();
        await using var client = hub.NewClient();
        await using var subscription = await ClientSubscription.OpenAsync(client, new SubscribeRequest(">"));
        var published = await hub.PublishManyAsync("x", 3);
        await subscription.WaitForCountAsync(3);
        var hubId = (await subscription.FindOnHubAsync(hub)).GetProperty("id").GetString();
        using var deleted = await hub.Http.DeleteAsync($"api/subscriptions/{hubId}");
        Assert.Equal(System.Net.HttpStatusCode.NoContent, deleted.StatusCode);
        await subscription.WaitForEndedAsync();

        // The events, then the end, typed, last; the client forgets it and does not resume it.
        Assert.Equal([.. published.Select(s => $"event {s}"), "ended deleted"],
            subscription.Messages.Select(m => m switch { HubEvent e => $"event {e.Sequence}", HubEnded x => $"ended {x.Reason}", _ => m.ToString() }));
        Assert.True(subscription.Subscription.IsClosed);
        Assert.Empty(client.Subscriptions);
        Assert.Empty(await hub.GetSubscriptionsAsync());
        using var again = await hub.Http.DeleteAsync($"api/subscriptions/{hubId}");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Disconnect_RemovesTheConnectionsSubscriptions()
    {
        await using var hub = await TestHub.StartAsync();
        var client = hub.NewClient();
        var a = await client.OpenAsync(new SubscribeRequest("a"));
        var b = await client.OpenAsync(new SubscribeRequest("b"));
        Assert.Equal([a.Id, b.Id], (await hub.GetSubscriptionsAsync()).Select(s => s.GetProperty("subscriptionId").GetString()).Order(StringComparer.Ordinal));
        await client.DisposeAsync(); // closes the connection without unsubscribing
        await Eventually.TrueAsync(async () => (await hub.GetSubscriptionsAsync()).Length == 0, "subscriptions removed after disconnect");
    }

    [Fact]
    public async Task AsksWhileCaughtUp_DoNotPileUpWaitsOnTheLog()
    {
        await using var hub = await TestHub.StartAsync(new Dictionary<string, string?> { ["Hub:Log:Kind"] = "Memory" });
        await using var client = await hub.ConnectAsync();
        var log = await client.SubscribeAsync(new SubscribeArgs([">"], Demand: "manual"));
        for (var i = 0; i < 50; i++)
        {
            await client.AskAsync(log, 1);
        }

        var memoryLog = (Hub.Log.LogTail)hub.Services.GetService(typeof(Hub.Log.IEventLog))!;
        await Eventually.TrueAsync(() => memoryLog.ListenerCount == 1, "one registration for the one waiting subscription");
        await hub.PublishManyAsync("x", 3);
        await log.WaitForCountAsync(3);
        Assert.True(memoryLog.ListenerCount <= 1, $"{memoryLog.ListenerCount} registrations after the append");
    }

    [Fact]
    public async Task Subscriptions_ShowTheirDemandWindows()
    {
        await using var hub = await TestHub.StartAsync();
        await using var client = hub.NewClient();
        await using var subscription = await client.OpenAsync(new SubscribeRequest("a.*", "b") { Types = ["t"], MaxDemand = 40, MinDemand = 10, Overflow = OverflowPolicy.Disconnect });
        var info = Assert.Single(await hub.GetSubscriptionsAsync());
        Assert.Equal(subscription.Id, info.GetProperty("subscriptionId").GetString());
        Assert.Matches("^sub_[0-9a-f]{20}$", info.GetProperty("id").GetString());
        Assert.Equal(["a.*", "b"], info.GetProperty("topics").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(["t"], info.GetProperty("types").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(40, info.GetProperty("maxDemand").GetInt32());
        Assert.Equal(10, info.GetProperty("minDemand").GetInt32());
        Assert.Equal(40, info.GetProperty("credits").GetInt64());
        Assert.Equal(40, subscription.Credits);
        Assert.Equal(JsonValueKind.Null, info.GetProperty("group").ValueKind);
        Assert.False(string.IsNullOrEmpty(info.GetProperty("connectionId").GetString()));
        foreach (var field in new[] { "buffered", "lag", "delivered", "dropped" })
        {
            Assert.Equal(0, info.GetProperty(field).GetInt64());
        }

        Assert.Equal("disconnect", info.GetProperty("overflow").GetString());
    }
}
