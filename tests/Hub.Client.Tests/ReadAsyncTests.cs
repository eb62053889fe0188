using Hub.Client.Tests.Infrastructure;
using Hub.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;

namespace Hub.Client.Tests;

/// <summary><see cref="HubClient.ReadAsync"/> and <see cref="HubClient.OpenAsync"/> against a real hub: taking events is
/// the demand, exactly and in order, within the credits.</summary>
[Collection(SharedHubCollection.Name)]
public sealed class ReadAsyncTests(SharedHub shared)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    private RunningHub Hub => shared.Hub;

    [Fact]
    public async Task TenThousandEvents_ThroughASlowLoop_ArriveExactlyOnce_InOrder_WithinTheCredits()
    {
        const int Count = 10_000;
        const int MaxDemand = 100;
        const int MinDemand = 50;
        var topic = SharedHub.UniqueTopic("tenk");
        var published = await Hub.PublishManyAsync(topic, Count);
        await using var client = new HubClient(Hub.Address, ClientOptions.Fast());
        var seen = new List<long>(Count);
        var violations = new List<string>();
        var fullWindows = 0;
        using var timeout = new CancellationTokenSource(Deadline);

        var request = new SubscribeRequest(topic) { After = published[0] - 1, MaxDemand = MaxDemand, MinDemand = MinDemand };
        await foreach (var e in client.ReadAsync(request, timeout.Token))
        {
            seen.Add(e.Sequence);
            var subscription = Assert.Single(client.Subscriptions);
            // The event in hand, what waits in the client and what the hub may still send never exceed the window.
            if (subscription.Credits < 0 || subscription.Credits + subscription.Queued + 1 > MaxDemand)
            {
                violations.Add($"at {e.Sequence}: credits {subscription.Credits}, queued {subscription.Queued}");
            }

            // Slow: every 500 events the loop stops until the hub has spent the whole window on it, and nothing more comes.
            if (seen.Count % 500 == 1 && Count - seen.Count >= MaxDemand)
            {
                await Eventually.TrueAsync(() => subscription.Credits == 0, "the window spent while the loop waits");
                var onHub = await Hub.FindSubscriptionAsync(subscription.Id!);
                Assert.Equal(0, onHub!.Value.GetProperty("credits").GetInt64());
                Assert.InRange(subscription.Queued, MinDemand, MaxDemand - 1);
                fullWindows++;
            }

            if (seen.Count == Count)
            {
                Assert.Equal(0, Assert.Single(client.Subscriptions).Overdrafts);
                Assert.Equal(0, Assert.Single(client.Subscriptions).Duplicates);
                break;
            }
        }

        Assert.Equal(published, seen);
        Assert.Empty(violations);
        Assert.Equal(20, fullWindows);
        // Leaving the loop unsubscribed.
        Assert.Empty(client.Subscriptions);
        await Eventually.TrueAsync(async () => (await Hub.GetSubscriptionsAsync()).All(s => s.GetProperty("topics")[0].GetString() != topic), "the hub to forget it");
    }

    [Fact]
    public async Task ASlowLoop_DelaysOnlyItsOwnStream()
    {
        var topic = SharedHub.UniqueTopic("slowfast");
        await using var slowClient = new HubClient(Hub.Address, ClientOptions.Fast());
        await using var fastClient = new HubClient(Hub.Address, ClientOptions.Fast());
        using var timeout = new CancellationTokenSource(Deadline);
        var request = new SubscribeRequest(topic) { MaxDemand = 20 };
        await using var slow = await slowClient.OpenAsync(request, timeout.Token);
        await using var fast = await fastClient.OpenAsync(request, timeout.Token);
        var published = await Hub.PublishManyAsync(topic, 2000);

        // The slow reader takes one event and stops; the fast one reads everything meanwhile.
        await using var slowEvents = slow.ReadAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);
        Assert.True(await slowEvents.MoveNextAsync());
        var fastSeen = new List<long>();
        await foreach (var e in fast.ReadAsync(timeout.Token))
        {
            fastSeen.Add(e.Sequence);
            if (fastSeen.Count == published.Length)
            {
                break;
            }
        }

        Assert.Equal(published, fastSeen);
        await Eventually.TrueAsync(() => slow.Credits == 0, "the slow reader's window spent");
        Assert.Equal(19, slow.Queued);
        Assert.Equal(published[0], slowEvents.Current.Sequence);

        var slowSeen = new List<long> { slowEvents.Current.Sequence };
        while (slowSeen.Count < published.Length && await slowEvents.MoveNextAsync())
        {
            slowSeen.Add(slowEvents.Current.Sequence);
        }

        Assert.Equal(published, slowSeen);
    }

    [Fact]
    public async Task ManualDemand_SendsNothingWithoutAsk_ThenExactlyWhatWasAsked()
    {
        var topic = SharedHub.UniqueTopic("manual");
        await using var client = new HubClient(Hub.Address, ClientOptions.Fast());
        using var timeout = new CancellationTokenSource(Deadline);
        await using var subscription = await client.OpenAsync(new SubscribeRequest(topic) { Demand = DemandMode.Manual, MaxDemand = 10 }, timeout.Token);
        var published = await Hub.PublishManyAsync(topic, 5);
        await Eventually.TrueAsync(async () => (await Hub.FindSubscriptionAsync(subscription.Id!))!.Value.GetProperty("lag").GetInt64() >= 5, "the events in the log");
        var idle = (await Hub.FindSubscriptionAsync(subscription.Id!))!.Value;
        Assert.Equal(0, idle.GetProperty("credits").GetInt64());
        Assert.Equal(0, idle.GetProperty("delivered").GetInt64());
        Assert.Equal(0, subscription.Queued);
        Assert.Throws<ArgumentOutOfRangeException>(() => subscription.Ask(0));

        subscription.Ask(3);
        var seen = new List<long>();
        await using var events = subscription.ReadAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);
        while (seen.Count < 3 && await events.MoveNextAsync())
        {
            seen.Add(events.Current.Sequence);
        }

        Assert.Equal(published[..3], seen);
        await Eventually.TrueAsync(async () => (await Hub.FindSubscriptionAsync(subscription.Id!))!.Value.GetProperty("delivered").GetInt64() == 3, "3 delivered");
        Assert.Equal(0, (await Hub.FindSubscriptionAsync(subscription.Id!))!.Value.GetProperty("credits").GetInt64());
        Assert.Equal(0, subscription.Credits);
        Assert.Equal(0, subscription.Queued);

        await using var automatic = await client.OpenAsync(new SubscribeRequest(topic), timeout.Token);
        Assert.Throws<InvalidOperationException>(() => automatic.Ask(1));
    }

    [Fact]
    public async Task EndedByTheHub_ReadAsyncThrows_WithTheReason()
    {
        var topic = SharedHub.UniqueTopic("deleted");
        await using var client = new HubClient(Hub.Address, ClientOptions.Fast());
        using var timeout = new CancellationTokenSource(Deadline);
        var published = await Hub.PublishManyAsync(topic, 3);
        var seen = new List<long>();
        var ended = await Assert.ThrowsAsync<HubSubscriptionEndedException>(async () =>
        {
            await foreach (var e in client.ReadAsync(new SubscribeRequest(topic) { After = published[0] - 1 }, timeout.Token))
            {
                seen.Add(e.Sequence);
                if (seen.Count == 3)
                {
                    await Hub.DeleteSubscriptionAsync(Assert.Single(client.Subscriptions).Id!);
                }
            }
        });
        Assert.Equal("deleted", ended.Ended.Reason);
        Assert.Equal(published, seen);
        Assert.Empty(client.Subscriptions);
    }

    [Fact]
    public async Task BadRequest_IsRefusedNamingTheField_AndLeavesNothing()
    {
        await using var client = new HubClient(Hub.Address, ClientOptions.Fast());
        var error = await Assert.ThrowsAsync<HubException>(() => client.OpenAsync(new SubscribeRequest("a..b")));
        Assert.Contains("topics[0]:", error.Message, StringComparison.Ordinal);
        var group = await Assert.ThrowsAsync<HubException>(() => client.OpenAsync(new SubscribeRequest("a") { Group = "has space" }));
        Assert.Contains("group:", group.Message, StringComparison.Ordinal);
        Assert.Empty(client.Subscriptions);
        Assert.Throws<ArgumentOutOfRangeException>(() => client.ReadAsync(new SubscribeRequest("a") { MaxDemand = 10, MinDemand = 10 }).GetAsyncEnumerator().MoveNextAsync().AsTask().GetAwaiter().GetResult());
        Assert.Throws<ArgumentException>(() => new HubClient(new Uri("ftp://x/")));
    }
}
