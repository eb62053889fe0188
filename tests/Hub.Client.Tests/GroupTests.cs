using Hub.Client.Tests.Infrastructure;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Client.Tests;

/// <summary>Group members on their own <see cref="HubClient"/>s share the events; the client acknowledges what its
/// handler finished, so what a leaving member had not finished goes to the others, marked redelivered.</summary>
[Collection(SharedHubCollection.Name)]
public sealed class GroupTests(SharedHub shared)
{
    private RunningHub Hub => shared.Hub;

    [Fact]
    public async Task ThreeMembers_ShareTheEvents_EachExactlyOnce_AndALeavingMembersUnfinishedEventsGoToTheOthers()
    {
        var topic = SharedHub.UniqueTopic("work");
        var group = topic.Replace('.', '-');
        var members = new[]
        {
            new HubClient(Hub.Address, ClientOptions.Fast()),
            new HubClient(Hub.Address, ClientOptions.Fast()),
            new HubClient(Hub.Address, ClientOptions.Fast()),
        };
        try
        {
            var handled = new[] { new List<HubEvent>(), new List<HubEvent>(), new List<HubEvent>() };
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var request = new SubscribeRequest(topic) { Group = group, Dispatch = GroupDispatch.Demand, MaxDemand = 10, MinDemand = 5 };
            var subscriptions = new HubSubscription[3];
            for (var m = 0; m < 3; m++)
            {
                var mine = handled[m];
                subscriptions[m] = await members[m].SubscribeAsync(request, (e, _) =>
                {
                    lock (mine)
                    {
                        mine.Add(e);
                    }

                    return ValueTask.CompletedTask;
                });
            }

            var first = await Hub.PublishManyAsync(topic, 3000);
            await Eventually.TrueAsync(() => handled.Sum(h => Count(h)) == 3000, "the 3000 handled");
            var all = handled.SelectMany(h => Snapshot(h)).ToList();
            Assert.Equal(first, all.Select(e => e.Sequence).Order());
            Assert.All(handled, h => Assert.NotEmpty(Snapshot(h)));
            Assert.DoesNotContain(all, e => e.Redelivered);

            // The third member stops in its handler with a window of events it has not finished, and leaves.
            await subscriptions[2].DisposeAsync();
            var stuck = new List<HubEvent>();
            await using var blocked = await members[2].SubscribeAsync(request, async (e, ct) =>
            {
                lock (stuck)
                {
                    stuck.Add(e);
                }

                await gate.Task;
            });
            var second = await Hub.PublishManyAsync(topic, 300, from: 3000);
            await Eventually.TrueAsync(() => Count(stuck) == 1 && Count(handled[0]) + Count(handled[1]) + Count(handled[2]) - 3000 >= 300 - 10 - 1 && blocked.Queued == 9,
                "the blocked member holding its window, the others the rest");
            await blocked.DisposeAsync();
            gate.SetResult();
            List<HubEvent> Rest() => [.. Snapshot(handled[0]).Concat(Snapshot(handled[1])).Concat(Snapshot(handled[2])).Where(e => e.Sequence > first[^1])];
            await Eventually.TrueAsync(() => Rest().Count == 300, "the others to get the blocked member's 10 again");
            var rest = Rest();
            Assert.Equal(second, rest.Select(e => e.Sequence).Order());
            var redelivered = rest.Where(e => e.Redelivered).Select(e => e.Sequence).Order().ToList();
            Assert.Equal(10, redelivered.Count);
            Assert.Contains(Assert.Single(stuck).Sequence, redelivered);
        }
        finally
        {
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AMemberWhoseNetworkDrops_RejoinsTheGroup_NothingIsLost_AndWhatComesAgainIsMarkedRedelivered()
    {
        var topic = SharedHub.UniqueTopic("rejoin");
        var group = topic.Replace('.', '-');
        await using var proxy = new TcpProxy(Hub.Address);
        proxy.Start();
        await using var dropping = new HubClient(proxy.Address, ClientOptions.Fast());
        await using var staying = new HubClient(Hub.Address, ClientOptions.Fast());
        var handled = new[] { new List<HubEvent>(), new List<HubEvent>() };
        var request = new SubscribeRequest(topic) { Group = group, Dispatch = GroupDispatch.Demand, MaxDemand = 10, MinDemand = 5 };
        var holding = new TaskCompletionSource<HubEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // The member behind the proxy is busy with its 20th event when its network goes: that one and the window behind
        // it are in flight, unacknowledged.
        await using var a = await dropping.SubscribeAsync(request, async (e, _) =>
        {
            int count;
            lock (handled[0])
            {
                handled[0].Add(e);
                count = handled[0].Count;
            }

            if (count == 20)
            {
                holding.SetResult(e);
                await gate.Task;
            }
        });
        var idBefore = a.Id;

        var first = await Hub.PublishManyAsync(topic, 500);
        var held = await holding.Task.WaitAsync(TimeSpan.FromMinutes(1));

        // The other member joins only now, so the first member, alone until then, surely reached its 20th event (were both
        // in from the start, a busy machine could let the other take all but a few of the 500).
        await using var b = await staying.SubscribeAsync(request, (e, _) =>
        {
            lock (handled[1])
            {
                handled[1].Add(e);
            }

            return ValueTask.CompletedTask;
        });
        await Eventually.TrueAsync(() => Count(handled[0]) + Count(handled[1]) + a.Queued >= first.Length, "the rest of the first 500 handled by the other member");
        proxy.CutAll();
        var second = await Hub.PublishManyAsync(topic, 500, from: 500);
        await Eventually.TrueAsync(() => a.Id is { } id && id != idBefore, "the dropped member rejoined under a new id");
        gate.SetResult();
        List<HubEvent> All() => [.. Snapshot(handled[0]), .. Snapshot(handled[1])];
        await Eventually.TrueAsync(() => All().Select(e => e.Sequence).ToHashSet().SetEquals([.. first, .. second]), "every event handled");

        // Nothing lost. The event in hand when the network went was finished there and handed to the other member too,
        // marked; so was anything else handled twice.
        var all = All();
        var repeated = all.GroupBy(e => e.Sequence).Where(g => g.Count() > 1).ToList();
        Assert.Contains(repeated, g => g.Key == held.Sequence);
        Assert.All(repeated, g => Assert.Contains(g, e => e.Redelivered));
        Assert.Contains(Snapshot(handled[1]), e => e.Sequence == held.Sequence && e.Redelivered);

        // The rejoined member takes its share again.
        var third = await Hub.PublishManyAsync(topic, 1000, from: 1000);
        await Eventually.TrueAsync(() => All().Select(e => e.Sequence).ToHashSet().IsSupersetOf(third), "the last 1000 handled");
        Assert.Contains(Snapshot(handled[0]), e => e.Sequence >= third[0]);
        Assert.Equal(2, (await Hub.GetSubscriptionsAsync()).Count(s => s.GetProperty("group").ValueKind == System.Text.Json.JsonValueKind.String && s.GetProperty("topics")[0].GetString() == topic));
    }

    private static int Count(List<HubEvent> list)
    {
        lock (list)
        {
            return list.Count;
        }
    }

    private static List<HubEvent> Snapshot(List<HubEvent> list)
    {
        lock (list)
        {
            return [.. list];
        }
    }
}
