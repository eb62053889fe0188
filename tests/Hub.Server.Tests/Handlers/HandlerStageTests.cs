using System.Text.Json;
using Hub.Log;
using Hub.Server.Handlers;
using Hub.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Server.Tests.Handlers;

/// <summary>In-process handlers on real Kestrel: isolation, retries and dead letters, restarts, concurrency by key.</summary>
public sealed class HandlerStageTests
{
    internal static Task<TestHub> StartAsync(HandlerProbes probes, Action<HubBuilder> handlers, Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null) =>
        TestHub.StartAsync(settings ?? new() { ["Hub:Log:Kind"] = "Memory" }, builder =>
        {
            builder.Services.AddSingleton(probes);
            services?.Invoke(builder.Services);
            handlers(new HubBuilder(builder.Services, builder.Configuration));
        });

    private static HandlerStage Stage(TestHub hub, string name) =>
        hub.Services.GetRequiredService<HandlerHost>().Stages.Single(s => s.Name == name);

    [Fact]
    public async Task SlowHandler_DelaysNoPublisherNoOtherHandlerAndNoSubscriber()
    {
        var probes = new HandlerProbes();
        await using var hub = await StartAsync(probes, h => h
            .AddHandler<SlowHandler>(SlowHandler.Name, o =>
            {
                o.Topics.Add("orders.>");
                o.MaxDemand = 10;
                o.MinDemand = 5;
            })
            .AddHandler<FastHandler>(FastHandler.Name, o => o.Topics.Add("orders.>")));
        await using var client = await hub.ConnectAsync();
        var subscriber = await client.SubscribeAsync(new SubscribeArgs(["orders.>"], MaxDemand: 1000));

        // 600 events in 30 POSTs: the slow handler needs 200 ms for each batch of at most 5, the others none.
        var published = new List<long>();
        for (var i = 0; i < 30; i++)
        {
            published.AddRange(await hub.PublishManyAsync("orders.eu", 20));
        }

        await subscriber.WaitForCountAsync(published.Count);
        await Eventually.TrueAsync(() => probes[FastHandler.Name].HandledSequences.Length >= published.Count, "the fast handler has handled every event");
        var slowSoFar = probes[SlowHandler.Name].HandledSequences;

        // Every POST has been answered and the fast consumers have everything, in order, while the slow one is behind.
        Assert.Equal(published, subscriber.Sequences);
        Assert.Equal(published, probes[FastHandler.Name].HandledSequences);
        Assert.True(slowSoFar.Length < published.Count, $"the slow handler had handled {slowSoFar.Length} of {published.Count}");
        Assert.Equal(published.Take(slowSoFar.Length), slowSoFar);
        Assert.All(probes[SlowHandler.Name].Calls, c => Assert.InRange(c.Length, 1, 5));

        // It goes on at its own pace, in order.
        await Eventually.TrueAsync(() => probes[SlowHandler.Name].HandledSequences.Length > slowSoFar.Length + 5, "the slow handler goes on");
        var later = probes[SlowHandler.Name].HandledSequences;
        Assert.Equal(published.Take(later.Length), later);

        // All three are listed, each with its kind; the slow handler lags.
        var rows = (await hub.GetSubscriptionsAsync()).ToDictionary(r => r.GetProperty("id").GetString()!);
        Assert.Equal("subscriber", rows[subscriber.Id].GetProperty("kind").GetString());
        foreach (var name in new[] { SlowHandler.Name, FastHandler.Name })
        {
            var row = rows["handler:" + name];
            Assert.Equal("handler", row.GetProperty("kind").GetString());
            Assert.Equal("in-process", row.GetProperty("connectionId").GetString());
            Assert.Equal(["orders.>"], row.GetProperty("topics").EnumerateArray().Select(t => t.GetString()));
        }

        Assert.Equal(10, rows["handler:slow"].GetProperty("maxDemand").GetInt32());
        Assert.True(rows["handler:slow"].GetProperty("lag").GetInt64() > 0);
        Assert.Equal(0, rows["handler:fast"].GetProperty("lag").GetInt64());
    }

    [Fact]
    public async Task PoisonEvent_IsRetried_ThenDeadLettered_AndTheHandlerGoesOn()
    {
        var probes = new HandlerProbes();
        await using var hub = await StartAsync(probes, h => h.AddHandler<PoisonHandler>(PoisonHandler.Name, o =>
        {
            o.Topics.Add("orders.>");
            o.MaxDemand = 20;
            o.MinDemand = 10;
            o.MaxAttempts = 3;
            o.RetryDelay = TimeSpan.FromMilliseconds(1);
            o.MaxRetryDelay = TimeSpan.FromMilliseconds(4);
        }));
        await using var client = await hub.ConnectAsync();
        var letters = await client.SubscribeAsync(new SubscribeArgs(["hub.deadletter.*"]));

        var first = await hub.PublishAsync(Enumerable.Range(0, 6).Select(i => new { topic = "orders.eu", key = $"k{i}", data = new { n = i, poison = i == 3 } }).ToArray());
        var poison = first[3];
        await letters.WaitForCountAsync(1);

        var letter = letters.Events.Single();
        Assert.Equal("hub.deadletter.poison", letter.GetProperty("topic").GetString());
        Assert.Equal("hub.deadletter", letter.GetProperty("type").GetString());
        Assert.Equal(poison.ToString(System.Globalization.CultureInfo.InvariantCulture), letter.GetProperty("id").GetString());
        Assert.Equal("k3", letter.GetProperty("key").GetString());
        var data = letter.GetProperty("data");
        Assert.Equal("poison", data.GetProperty("handler").GetString());
        Assert.Equal(poison, data.GetProperty("sequence").GetInt64());
        Assert.Equal("orders.eu", data.GetProperty("topic").GetString());
        Assert.Equal(typeof(InvalidOperationException).FullName, data.GetProperty("exception").GetString());
        Assert.Equal($"cannot handle event {poison}", data.GetProperty("message").GetString());

        // Every call that held it failed, and there were as many as the letter says: its batch's attempts, then its own 3.
        var calls = probes[PoisonHandler.Name].Calls;
        Assert.Equal(data.GetProperty("attempts").GetInt32(), calls.Count(c => c.Contains(poison)));
        Assert.Equal(3, calls.Count(c => c.SequenceEqual([poison])));

        // The handler goes on: the good events of the batch were handled, and the next ones are.
        var more = await hub.PublishAsync(new[] { new { topic = "orders.eu", data = new { n = 6, poison = false } }, new { topic = "orders.eu", data = new { n = 7, poison = false } } });
        await Eventually.TrueAsync(() => probes[PoisonHandler.Name].HandledSequences.Contains(more[^1]), "the handler handled the events after the poison");
        Assert.Equal(first.Where(s => s != poison).Concat(more), probes[PoisonHandler.Name].HandledSequences);
        var stage = Stage(hub, PoisonHandler.Name);
        Assert.Equal(1, stage.DeadLettered);
        Assert.Equal(more[^1], stage.Position);
    }

    [Fact]
    public async Task Restart_ResumesEachHandlerAfterItsPosition()
    {
        var directory = Directory.CreateTempSubdirectory("hub-handlers-").FullName;
        try
        {
            var settings = new Dictionary<string, string?> { ["Hub:Log:Sqlite:Path"] = Path.Combine(directory, "hub.db") };
            static void AddBoth(HubBuilder h) => h
                .AddHandler<FastHandler>(FastHandler.Name, o => o.Topics.Add("orders.>"))
                .AddHandler<PoisonHandler>(PoisonHandler.Name, o => o.Topics.Add("orders.>"));

            // Before any handler exists: a handler's first start begins at the head, so these are not handled.
            long[] before;
            await using (var hub0 = await TestHub.StartAsync(settings))
            {
                before = await hub0.PublishManyAsync("orders.eu", 5);
            }

            var probesA = new HandlerProbes();
            long[] a;
            HandlerStage[] stagesA;
            await using (var hubA = await StartAsync(probesA, AddBoth, settings))
            {
                a = await PublishAsync(hubA, 20);
                await Eventually.TrueAsync(() => probesA[FastHandler.Name].HandledSequences.Length >= a.Length && probesA[PoisonHandler.Name].HandledSequences.Length >= a.Length, "both handlers handled the first events");
                stagesA = [.. hubA.Services.GetRequiredService<HandlerHost>().Stages];
            }

            Assert.Equal(a, probesA[FastHandler.Name].HandledSequences);
            Assert.Equal(a, probesA[PoisonHandler.Name].HandledSequences);
            Assert.All(before, s => Assert.True(s < a[0]));

            var probesB = new HandlerProbes();
            long[] b;
            await using (var hubB = await StartAsync(probesB, AddBoth, settings))
            {
                b = await PublishAsync(hubB, 10);
                await Eventually.TrueAsync(() => probesB[FastHandler.Name].HandledSequences.Contains(b[^1]) && probesB[PoisonHandler.Name].HandledSequences.Contains(b[^1]), "both handlers handled the events after the restart");
            }

            foreach (var stage in stagesA)
            {
                // Each resumed after the position it saved: nothing lost, and only what was after it (nothing, after a
                // graceful stop) handled again.
                Assert.Equal(a[^1], stage.Position);
                Assert.Equal(a.Where(s => s > stage.Position).Concat(b), probesB[stage.Name].HandledSequences);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        static Task<long[]> PublishAsync(TestHub hub, int count) =>
            hub.PublishAsync(Enumerable.Range(0, count).Select(i => new { topic = "orders.eu", data = new { n = i, poison = false } }).ToArray());
    }

    [Fact]
    public async Task InFlight_IsWhatWasHandedToTheHandlerAndNotCompleted_InTheListAndOnTheDashboard()
    {
        var probes = new HandlerProbes();
        var gate = new HandlerGate();
        await using var hub = await StartAsync(probes, h => h.AddHandler<GatedHandler>(GatedHandler.Name, o =>
        {
            o.Topics.Add("orders.>");
            o.MaxDemand = 10;
            o.MinDemand = 5;
        }), services: s => s.AddSingleton(gate));
        var probe = probes[GatedHandler.Name];

        var first = await hub.PublishManyAsync("orders.eu", 3);
        await Eventually.TrueAsync(() => probe.Calls.Count == 1, "the handler was called");
        var more = await hub.PublishManyAsync("orders.eu", 12);

        // Its 10 credits: the 3 of the held call and 7 more handed after them; the last 5 wait in the log.
        await Eventually.TrueAsync(async () => (await hub.GetSubscriptionAsync("handler:gated")).GetProperty("inFlight").GetInt32() == 10, "the row shows 10 in flight");
        var row = await hub.GetSubscriptionAsync("handler:gated");
        Assert.Equal(0, row.GetProperty("credits").GetInt64());
        Assert.Equal(5, row.GetProperty("lag").GetInt64());
        Assert.Equal([first], probe.Calls); // one call at a time (MaxConcurrency 1): the others wait for it
        Assert.Equal(10, Stage(hub, GatedHandler.Name).InFlight);

        // The dashboard reads the same snapshot.
        var feed = hub.Services.GetRequiredService<Hub.Server.Dashboard.DashboardFeed>();
        feed.Tick();
        Assert.Equal(10, feed.Latest.Subscriptions.Single(s => s.Id == "handler:gated").InFlight);

        gate.Open();
        await Eventually.TrueAsync(() => probe.HandledSequences.Length == 15, "the handler handled everything");
        Assert.Equal(first.Concat(more), probe.HandledSequences);
        await Eventually.TrueAsync(async () => (await hub.GetSubscriptionAsync("handler:gated")).GetProperty("inFlight").GetInt32() == 0, "nothing in flight any more");
        Assert.Equal(more[^1], Stage(hub, GatedHandler.Name).Position);
    }

    [Fact]
    public async Task MaxConcurrency_WithoutOrderByKey_RunsThatManyCallsAtOnce_AndNoMore()
    {
        var probes = new HandlerProbes();
        var gate = new HandlerGate();
        await using var hub = await StartAsync(probes, h => h.AddHandler<GatedHandler>(GatedHandler.Name, o =>
        {
            o.Topics.Add("orders.>");
            o.MaxConcurrency = 3;
            o.MaxDemand = 30;
            o.MinDemand = 28;
        }), services: s => s.AddSingleton(gate));
        var probe = probes[GatedHandler.Name];

        // 20 events in batches of 2: all handed (10 batches), 3 called, the other 7 waiting for a free call.
        var published = await hub.PublishManyAsync("orders.eu", 20);
        await Eventually.TrueAsync(async () => probe.Calls.Count == 3 && (await hub.GetSubscriptionAsync("handler:gated")).GetProperty("inFlight").GetInt32() == 20, "3 calls hold batches, every event handed");
        Assert.Equal(3, probe.Calls.Count);
        Assert.All(probe.Calls, c => Assert.Equal(2, c.Length));

        gate.Open();
        await Eventually.TrueAsync(() => probe.HandledSequences.Length == 20, "every event handled");
        Assert.Equal(published, probe.HandledSequences.Order());
        Assert.Equal(published, probe.Calls.SelectMany(static c => c).Order());
        await Eventually.TrueAsync(() => Stage(hub, GatedHandler.Name).Position == published[^1], "the position passed every event");
    }

    [Fact]
    public async Task MaxConcurrency_WithOrderByKey_RunsKeysInParallel_AndEachKeyInOrder()
    {
        var state = new KeyedState();
        await using var hub = await StartAsync(new HandlerProbes(), h => h.AddHandler<KeyedHandler>(KeyedHandler.Name, o =>
        {
            o.Topics.Add("orders.>");
            o.MaxConcurrency = 4;
            o.OrderByKey = true;
            o.MaxDemand = 64;
            o.MinDemand = 32;
        }), services: s => s.AddSingleton(state));

        var published = new List<(string Key, long Sequence)>();
        for (var round = 0; round < 5; round++)
        {
            var keys = Enumerable.Range(0, 40).Select(i => $"k{(i * 7 + round) % 16}").ToArray();
            var sequences = await hub.PublishAsync(keys.Select(k => new { topic = "orders.eu", key = k, data = new { k } }).ToArray());
            published.AddRange(keys.Zip(sequences));
        }

        await Eventually.TrueAsync(() => state.Count >= published.Count, "every event handled");
        Assert.Empty(state.Violations);
        Assert.True(state.MaxRunning >= 2, $"at most {state.MaxRunning} batch ran at once");
        var expected = published.GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Select(p => p.Sequence).ToArray());
        var handled = state.ByKey;
        Assert.Equal(expected.Keys.Order(), handled.Keys.Order());
        foreach (var (key, sequences) in expected)
        {
            Assert.Equal(sequences, handled[key]);
        }
    }
}
