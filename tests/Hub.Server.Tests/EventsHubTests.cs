using System.Text.Json;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests;

/// <summary>The SignalR hub over real WebSockets: delivery, demand windows, replay, ending.</summary>
public sealed class EventsHubTests
{
    [Fact]
    public async Task Subscribers_ReceiveExactlyTheMatchingEvents_InOrder_WithoutDuplicates()
    {
        await using var hub = await TestHub.StartAsync();
        await using var client = await hub.ConnectAsync();
        var all = await client.SubscribeAsync(new SubscribeArgs(["orders.>"]));
        var eu = await client.SubscribeAsync(new SubscribeArgs(["orders.eu.*"]));
        var created = await client.SubscribeAsync(new SubscribeArgs(["orders.*.*", "payments.*"], Types: ["created"]));
        var exact = await client.SubscribeAsync(new SubscribeArgs(["payments.card"]));

        var topics = new[] { "orders.eu.1", "orders.us.2", "orders.eu", "payments.card", "payments.card.x", "other" };
        var types = new[] { "created", "shipped", null };
        var published = new List<(long Sequence, string Topic, string? Type)>();
        for (var round = 0; round < 5; round++)
        {
            var batch = topics.SelectMany((t, i) => types.Select(ty => new { topic = t, type = ty, data = new { round, i } })).ToArray();
            var sequences = await hub.PublishAsync(batch);
            published.AddRange(sequences.Select((s, i) => (s, batch[i].topic, batch[i].type)));
        }

        async Task Expect(SubscriptionLog log, Func<string, string?, bool> matches)
        {
            var expected = published.Where(p => matches(p.Topic, p.Type)).Select(p => p.Sequence).ToArray();
            await log.WaitForCountAsync(expected.Length);
            Assert.Equal(expected, log.Sequences);
            Assert.Empty(log.Violations);
        }

        await Expect(all, (t, _) => t.StartsWith("orders.", StringComparison.Ordinal));
        await Expect(eu, (t, _) => t.StartsWith("orders.eu.", StringComparison.Ordinal) && t.Count(c => c == '.') == 2);
        await Expect(created, (t, ty) => ty == "created" && (t.StartsWith("orders.", StringComparison.Ordinal) && t.Count(c => c == '.') == 2 || t == "payments.card"));
        await Expect(exact, (t, _) => t == "payments.card");

        // Delivered events carry the whole envelope.
        var first = all.Events[0];
        Assert.Equal("orders.eu.1", first.GetProperty("topic").GetString());
        Assert.Equal("created", first.GetProperty("type").GetString());
        Assert.Equal(0, first.GetProperty("data").GetProperty("round").GetInt32());
        Assert.True(first.GetProperty("time").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.Empty(client.Unexpected);
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
        long lastSeen;
        await using (var first = await hub.ConnectAsync())
        {
            var log = await first.SubscribeAsync(new SubscribeArgs(["s.*"]));
            Assert.Equal(0, log.Position);
            await hub.PublishManyAsync("s.x", 10);
            await log.WaitForCountAsync(10);
            lastSeen = log.Sequences[^1];
        }

        await hub.PublishManyAsync("s.x", 10);
        await hub.PublishManyAsync("other", 5);
        await using var second = await hub.ConnectAsync();
        var resumed = await second.SubscribeAsync(new SubscribeArgs(["s.*"], After: lastSeen));
        Assert.Equal(lastSeen, resumed.Position);
        await resumed.WaitForCountAsync(10);
        await hub.PublishManyAsync("s.y", 3);
        await resumed.WaitForCountAsync(13);
        Assert.Equal(Enumerable.Range(11, 10).Concat(Enumerable.Range(26, 3)).Select(i => (long)i), resumed.Sequences);
        Assert.Empty(resumed.Violations);
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
        await using var client = await hub.ConnectAsync();
        var gone = await client.SubscribeAsync(new SubscribeArgs([">"]));
        var witness = await client.SubscribeAsync(new SubscribeArgs([">"]));
        await hub.PublishManyAsync("x", 2);
        await gone.WaitForCountAsync(2);
        await client.UnsubscribeAsync(gone);
        await hub.PublishManyAsync("x", 2);
        await witness.WaitForCountAsync(4);
        Assert.Equal(2, gone.Count);
        Assert.Null(gone.EndedReason);
        Assert.DoesNotContain(await hub.GetSubscriptionsAsync(), s => s.GetProperty("id").GetString() == gone.Id);
    }

    [Fact]
    public async Task DeleteSubscription_EndsIt_AndTellsTheClient()
    {
        await using var hub = await TestHub.StartAsync();
        await using var client = await hub.ConnectAsync();
        var log = await client.SubscribeAsync(new SubscribeArgs([">"]));
        using var deleted = await hub.Http.DeleteAsync($"api/subscriptions/{log.Id}");
        Assert.Equal(System.Net.HttpStatusCode.NoContent, deleted.StatusCode);
        await log.WaitForEndedAsync();
        Assert.Equal("deleted", log.EndedReason);
        Assert.Empty(await hub.GetSubscriptionsAsync());
        using var again = await hub.Http.DeleteAsync($"api/subscriptions/{log.Id}");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Disconnect_RemovesTheConnectionsSubscriptions()
    {
        await using var hub = await TestHub.StartAsync();
        var client = await hub.ConnectAsync();
        await client.SubscribeAsync(new SubscribeArgs(["a"]));
        await client.SubscribeAsync(new SubscribeArgs(["b"]));
        Assert.Equal(2, (await hub.GetSubscriptionsAsync()).Length);
        await client.DisposeAsync();
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
        await using var client = await hub.ConnectAsync();
        var log = await client.SubscribeAsync(new SubscribeArgs(["a.*", "b"], Types: ["t"], MaxDemand: 40, MinDemand: 10, Overflow: "disconnect"));
        var info = await hub.GetSubscriptionAsync(log.Id);
        Assert.Equal(["a.*", "b"], info.GetProperty("topics").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(40, info.GetProperty("maxDemand").GetInt32());
        Assert.Equal(10, info.GetProperty("minDemand").GetInt32());
        Assert.Equal(40, info.GetProperty("credits").GetInt64());
        Assert.Equal(JsonValueKind.Null, info.GetProperty("group").ValueKind);
        Assert.False(string.IsNullOrEmpty(info.GetProperty("connectionId").GetString()));
        foreach (var field in new[] { "buffered", "lag", "delivered", "dropped" })
        {
            Assert.Equal(0, info.GetProperty(field).GetInt64());
        }

        Assert.Equal("disconnect", info.GetProperty("overflow").GetString());
    }
}
