using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests;

/// <summary>A slow or stalled subscriber delays no other subscriber and no publisher.</summary>
public sealed class IsolationTests
{
    [Fact]
    public async Task StalledSubscribers_DoNotDelayOthersOrPublishers_AndCostNoCopyOfTheBacklog()
    {
        const int perRound = 12_000, batch = 200, payload = 1024;
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
            log.RecordEnvelopes = false;
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

        // Two rounds: the first warms every pool; between the end of the first and the end of the second, the stalled
        // clients' backlog grows by a whole round. Were it copied per subscriber, memory would grow by at least
        // perRound × payload (12 MB) for each stalled client; with cursors into the shared log it stays flat.
        long afterFirstRound = 0;
        for (var round = 0; round < 2; round++)
        {
            var posts = Enumerable.Range(0, perRound / batch).Select(_ => hub.PublishManyAsync("load.test", batch, payloadBytes: payload)).ToArray();
            var sequences = (await Task.WhenAll(posts).WaitAsync(TimeSpan.FromSeconds(60))).SelectMany(s => s).Order().ToArray();
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
        foreach (var (_, log) in fast)
        {
            Assert.Equal(Enumerable.Range(1, 2 * perRound).Select(i => (long)i), log.Sequences);
        }

        // The stalled ones are still subscribed, holding a cursor and at most one batch in flight.
        var stalledInfo = await hub.GetSubscriptionAsync(stalled.Id);
        var silentInfo = await hub.GetSubscriptionAsync(silent.Id);
        Assert.Equal(0, silentInfo.GetProperty("delivered").GetInt64());
        Assert.Equal(2 * perRound, silentInfo.GetProperty("lag").GetInt64());
        Assert.True(stalledInfo.GetProperty("delivered").GetInt64() < perRound, "the stalled client cannot have taken a whole round");
        Assert.True(stalledInfo.GetProperty("lag").GetInt64() > perRound);
        Assert.True(growth < perRound * (long)payload / 2, $"managed memory grew by {growth:N0} bytes over the second round");

        foreach (var (client, _) in fast)
        {
            await client.DisposeAsync();
        }
    }
}
