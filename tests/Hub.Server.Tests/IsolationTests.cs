using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests;

/// <summary>A slow or stalled subscriber delays no other subscriber and no publisher.</summary>
/// <remarks>Runs alone: it measures the process's managed memory, which other tests running beside it would grow.</remarks>
[Collection(RunsAlone.Name)]
public sealed class IsolationTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task StalledSubscribers_DoNotDelayOthersOrPublishers_AndCostNoCopyOfTheBacklog()
    {
        const int perRound = 12_000, batch = 100, payload = 1024;
        await using var hub = await TestHub.StartAsync(new Dictionary<string, string?>
        {
            // The log keeps one round, so the fast clients, which drain each round, never overflow.
            ["Hub:Log:Retention:MaxEvents"] = perRound.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        // One client that stops reading its socket, with a window large enough to fill every buffer on the way.
        await using var stalledSocket = await hub.ConnectAsync();
        var stalled = await stalledSocket.SubscribeAsync(new SubscribeArgs([">"], MaxDemand: 1_000_000));
        stalledSocket.StopReading();

        // One that never asks (manual demand, no credits).
        await using var silentClient = await hub.ConnectAsync();
        var silent = await silentClient.SubscribeAsync(new SubscribeArgs([">"], Demand: "manual"));

        // Ten ordinary clients that re-ask as they go.
        var fast = new List<(HubClient Client, SubscriptionLog Log)>();
        for (var i = 0; i < 10; i++)
        {
            var client = await hub.ConnectAsync();
            var log = await client.SubscribeAsync(new SubscribeArgs([">"], MaxDemand: 500, MinDemand: 250));
            log.RecordEvents = false; // counted and checked in order, not kept
            var handled = 0;
            log.OnBatch = (s, count) =>
            {
                handled += count;
                while (handled >= 250)
                {
                    handled -= 250;
                    _ = client.AskAsync(s, 250);
                }
            };
            fast.Add((client, log));
        }

        // Three rounds: the first warms every pool; from the end of the first to the end of the third, the stalled
        // clients' backlog grows by two rounds. Were it copied per subscriber, memory would grow by at least
        // 2 × perRound × payload (24 MB) for each of the two stalled clients; with cursors into the shared log (whose
        // ring keeps one round) it stays flat. The bound allows half of one client's copy for noise.
        const int rounds = 3;
        long afterFirstRound = 0;
        for (var round = 0; round < rounds; round++)
        {
            // Four publishers at once, each POSTing batches until the round is out; every POST must complete. (A steady
            // number of publishers keeps the pools' footprint the same from round to round.)
            var next = 0;
            var publishers = Enumerable.Range(0, 4).Select(async _ =>
            {
                var mine = new List<long>();
                while (Interlocked.Add(ref next, batch) <= perRound)
                {
                    mine.AddRange(await hub.PublishManyAsync("load.test", batch, payloadBytes: payload));
                }

                return mine;
            }).ToArray();
            var sequences = (await Task.WhenAll(publishers).WaitAsync(TimeSpan.FromSeconds(60))).SelectMany(s => s).Order().ToArray();
            Assert.Equal(Enumerable.Range(round * perRound + 1, perRound).Select(i => (long)i), sequences);

            foreach (var (_, log) in fast)
            {
                await log.WaitForCountAsync((round + 1) * perRound, TimeSpan.FromSeconds(60));
                Assert.Empty(log.Violations);
            }

            if (round == 0)
            {
                afterFirstRound = GC.GetTotalMemory(forceFullCollection: true);
            }
        }

        var growth = GC.GetTotalMemory(forceFullCollection: true) - afterFirstRound;
        output.WriteLine($"managed memory from the end of round 1 to the end of round {rounds}: {growth:+#,0;-#,0} bytes");
        foreach (var (_, log) in fast)
        {
            // Strictly increasing (checked per event), as many as published, ending at the last: exactly 1..N.
            Assert.Equal((rounds * perRound, (long)rounds * perRound), (log.Count, log.LastSequence));
            Assert.Empty(log.Violations);
        }

        // The stalled ones are still subscribed, holding a cursor and at most one batch in flight.
        var stalledInfo = await hub.GetSubscriptionAsync(stalled.Id);
        var silentInfo = await hub.GetSubscriptionAsync(silent.Id);
        Assert.Equal(0, silentInfo.GetProperty("delivered").GetInt64());
        Assert.Equal(rounds * perRound, silentInfo.GetProperty("lag").GetInt64());
        Assert.True(stalledInfo.GetProperty("delivered").GetInt64() < perRound, "the stalled client cannot have taken a whole round");
        Assert.True(stalledInfo.GetProperty("lag").GetInt64() > perRound);
        Assert.True(growth < perRound * (long)payload, $"managed memory grew by {growth:N0} bytes over rounds 2 and 3");

        foreach (var (client, _) in fast)
        {
            await client.DisposeAsync();
        }
    }
}
