extern alias client;

using System.Net.Http.Json;
using System.Text.Json;
using client::Hub.Client;
using Hub.Server.Tests.Infrastructure;
using HubClient = Hub.Server.Tests.Infrastructure.HubClient;

namespace Hub.Server.Tests.Groups;

/// <summary>Groups over real WebSockets: members share a group's events, at least once, in a shared position that
/// survives a restart. Members that handle and acknowledge as a user's do are .NET clients (<see cref="ClientSubscription"/>:
/// the client acknowledges what its reader took); members that hold, drop or never acknowledge their events on purpose
/// speak the protocol themselves.</summary>
public sealed class GroupTests
{
    private const int Total = 20_000;

    /// <summary>A member that acknowledges each batch as soon as it has it (an auto-demand client that handles at once).</summary>
    private static async Task<SubscriptionLog> JoinAsync(HubClient client, string group, string dispatch = "demand", int maxDemand = 100, string[]? topics = null)
    {
        return await client.SubscribeAsync(new SubscribeArgs(topics ?? ["work.*"], MaxDemand: maxDemand, Group: group, Dispatch: dispatch), (log, n) => _ = client.AskAsync(log, n));
    }

    private static async Task<long[]> PublishAllAsync(TestHub hub, Func<int, object> make)
    {
        var sequences = new List<long>();
        for (var from = 0; from < Total; from += 1000)
        {
            sequences.AddRange(await hub.PublishAsync(Enumerable.Range(from, 1000).Select(make).ToArray()));
        }

        return [.. sequences];
    }

    /// <summary>A member on its own .NET client, reading (and so acknowledging) each event as it comes.</summary>
    private static async Task<(client::Hub.Client.HubClient Client, ClientSubscription Member)> JoinWithClientAsync(TestHub hub, string group, GroupDispatch dispatch, string topic = "work.*")
    {
        var client = hub.NewClient();
        return (client, await ClientSubscription.OpenAsync(client, new SubscribeRequest(topic) { Group = group, Dispatch = dispatch, MaxDemand = 100 }));
    }

    private static async Task LeaveAsync(IEnumerable<(client::Hub.Client.HubClient Client, ClientSubscription Member)> members)
    {
        foreach (var (client, member) in members)
        {
            await member.DisposeAsync();
            await client.DisposeAsync();
        }
    }

    private static bool IsRedelivered(JsonElement e) => e.TryGetProperty("redelivered", out var r) && r.GetBoolean();

    [Fact]
    public async Task DemandGroup_FourMembersShareTwentyThousandEvents_EachHandledByExactlyOne()
    {
        await using var hub = await TestHub.StartAsync();
        var joined = new List<(client::Hub.Client.HubClient Client, ClientSubscription Member)>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                joined.Add(await JoinWithClientAsync(hub, "workers", GroupDispatch.Demand));
            }

            var members = joined.Select(j => j.Member).ToList();
            var published = await PublishAllAsync(hub, i => new { topic = "work.item", data = new { i } });
            await Eventually.TrueAsync(() => members.Sum(m => m.Count) >= Total, "the members handle 20,000 events between them", TimeSpan.FromSeconds(60));

            var received = members.SelectMany(m => m.Events).ToArray();
            Assert.Equal(published.Order(), received.Select(e => e.Sequence).Order()); // every one, none twice
            Assert.Equal(Enumerable.Range(0, Total), received.Select(e => e.Data.GetProperty("i").GetInt32()).Order());
            Assert.All(members, m => Assert.True(m.Count > 0, "every member took a share"));
            Assert.All(members, m => Assert.Equal(m.Sequences.Order(), m.Sequences)); // each member's share in order
            Assert.All(members, m => m.AssertTheHubKeptToTheProtocol());
            Assert.DoesNotContain(received, e => e.Redelivered);

            var group = Assert.Single(await hub.Http.GetFromJsonAsync<JsonElement[]>("api/groups") ?? []);
            Assert.Equal("workers", group.GetProperty("name").GetString());
            Assert.Equal("demand", group.GetProperty("dispatch").GetString());
            var listed = (await hub.GetSubscriptionsAsync()).Where(s => s.GetProperty("group").ValueKind == JsonValueKind.String).Select(s => s.GetProperty("id").GetString());
            Assert.Equal(listed.Order(StringComparer.Ordinal), group.GetProperty("members").EnumerateArray().Select(e => e.GetString()).Order(StringComparer.Ordinal));
            Assert.Equal(4, group.GetProperty("members").GetArrayLength());

            // The clients acknowledged what their readers took: the group's position reaches the last event.
            await Eventually.TrueAsync(async () =>
                (await hub.Http.GetFromJsonAsync<JsonElement[]>("api/groups"))![0].GetProperty("position").GetInt64() == published[^1],
                "the group's position reaches the last event once all are acknowledged");
        }
        finally
        {
            await LeaveAsync(joined);
        }
    }

    [Fact]
    public async Task PartitionGroup_EveryEventOfAKeyReachesOneMember_InOrder()
    {
        await using var hub = await TestHub.StartAsync();
        var joined = new List<(client::Hub.Client.HubClient Client, ClientSubscription Member)>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                joined.Add(await JoinWithClientAsync(hub, "by-customer", GroupDispatch.Partition));
            }

            var members = joined.Select(j => j.Member).ToList();
            var published = await PublishAllAsync(hub, i => new { topic = "work.order", key = $"customer-{i % 50}", data = new { i } });
            await Eventually.TrueAsync(() => members.Sum(m => m.Count) >= Total, "the members handle 20,000 events between them", TimeSpan.FromSeconds(60));

            // Every published event, each at exactly one member, and each carrying the key it was published with.
            Assert.Equal(published.Order(), members.SelectMany(m => m.Sequences).Order());
            Assert.All(members.SelectMany(m => m.Events), e => Assert.Equal($"customer-{e.Data.GetProperty("i").GetInt32() % 50}", e.Key));

            var owners = new Dictionary<string, int>();
            for (var m = 0; m < members.Count; m++)
            {
                // A member owns several keys, whose batches interleave: each key's stream is in sequence order.
                members[m].AssertTheHubKeptToTheProtocol();
                foreach (var byKey in members[m].Events.GroupBy(e => e.Key!))
                {
                    Assert.Equal(m, owners.TryGetValue(byKey.Key, out var owner) ? owner : owners[byKey.Key] = m);
                    var sequences = byKey.Select(e => e.Sequence).ToArray();
                    Assert.Equal(sequences.Order(), sequences);
                }
            }

            Assert.Equal(Enumerable.Range(0, 50).Select(k => $"customer-{k}").Order(StringComparer.Ordinal), owners.Keys.Order(StringComparer.Ordinal));
            Assert.True(owners.Values.Distinct().Count() >= 3, "keys are spread over the members");
        }
        finally
        {
            await LeaveAsync(joined);
        }
    }

    [Fact]
    public async Task MemberDropsMidStream_ItsUnacknowledgedEventsGoToTheOthers_MarkedRedelivered_NothingLost()
    {
        await using var hub = await TestHub.StartAsync();
        var clients = new List<HubClient>();
        var members = new List<SubscriptionLog>();
        for (var i = 0; i < 3; i++)
        {
            clients.Add(await hub.ConnectAsync());
            members.Add(await JoinAsync(clients[i], "workers"));
        }

        // The fourth member takes a full window and never acknowledges it, then its connection drops.
        var dropperClient = await hub.ConnectAsync();
        var dropper = await dropperClient.SubscribeAsync(new SubscribeArgs(["work.*"], MaxDemand: 500, Group: "workers"));
        try
        {
            var published = await PublishAllAsync(hub, i => new { topic = "work.item", data = new { i } });
            await dropper.WaitUntilAsync(d => d.Count == 500, what: "the dropper holds its 500");
            var held = dropper.Sequences.ToHashSet();
            await Eventually.TrueAsync(() => members.Sum(m => m.Count) >= Total - 500, "the others handle everything but the dropper's share", TimeSpan.FromSeconds(60));
            Assert.Equal(500, (await hub.GetSubscriptionAsync(dropper.Id)).GetProperty("inFlight").GetInt32());

            await dropperClient.DisposeAsync();
            await Eventually.TrueAsync(() => members.Sum(m => m.Count) >= Total, "the dropper's 500 are redelivered", TimeSpan.FromSeconds(60));

            var events = members.SelectMany(m => m.Events).ToArray();
            Assert.Equal(published.Order(), events.Select(e => e.GetProperty("sequence").GetInt64()).Order()); // nothing lost, none twice among the survivors
            var redelivered = events.Where(IsRedelivered).Select(e => e.GetProperty("sequence").GetInt64()).ToHashSet();
            Assert.Equal(held, redelivered); // exactly the dropper's unacknowledged events came again, each marked
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task DemandGroup_AMemberThatDoesNotAsk_GetsOnlyItsWindow_TheOthersTakeTheRest()
    {
        await using var hub = await TestHub.StartAsync();
        await using var fastClient = await hub.ConnectAsync();
        await using var slowClient = await hub.ConnectAsync();
        var fast = await JoinAsync(fastClient, "workers");
        var slow = await slowClient.SubscribeAsync(new SubscribeArgs(["work.*"], MaxDemand: 10, Group: "workers"));

        var published = await hub.PublishManyAsync("work.item", 1000);
        await Eventually.TrueAsync(() => fast.Count + slow.Count >= 1000, "1000 handled between them");

        Assert.Equal(10, slow.Count);
        Assert.Equal(published, fast.Sequences.Concat(slow.Sequences).Order()); // every event, once, between them
    }

    [Fact]
    public async Task GroupPosition_SurvivesARestart_TheGroupResumesWhereItWasAcknowledged()
    {
        var directory = Directory.CreateTempSubdirectory("hub-group-restart-").FullName;
        var settings = new Dictionary<string, string?> { ["Hub:Log:Sqlite:Path"] = Path.Combine(directory, "hub.db") };
        try
        {
            long[] first;
            long[] later;
            await using (var hub = await TestHub.StartAsync(settings))
            {
                await using var client = await hub.ConnectAsync();
                var member = await client.SubscribeAsync(new SubscribeArgs(["work.*"], Demand: "manual", Group: "resumers"));
                first = await hub.PublishManyAsync("work.item", 30);
                await client.AskAsync(member, 30);
                await member.WaitForCountAsync(30);

                // Acknowledge the 20 oldest; the credits this grants take the next 5 events, which stay unacknowledged too.
                await client.AskAsync(member, 20);
                later = await hub.PublishManyAsync("work.item", 5);
                await member.WaitForCountAsync(35);
                await Eventually.TrueAsync(async () => (await hub.Http.GetFromJsonAsync<JsonElement[]>("api/groups"))![0].GetProperty("position").GetInt64() == first[19],
                    "the group's position is the 20th event");
            }

            await using (var hub = await TestHub.StartAsync(settings))
            {
                await using var client = await hub.ConnectAsync();
                var member = await JoinAsync(client, "resumers");
                Assert.Equal(first[19], member.Position);
                var unacknowledged = first[20..].Concat(later).ToArray();
                await member.WaitForCountAsync(unacknowledged.Length);
                Assert.Equal(unacknowledged, member.Sequences);
                Assert.All(member.Events, e => Assert.True(IsRedelivered(e), $"{e.GetProperty("sequence")} was handed out before the restart"));

                var fresh = await hub.PublishManyAsync("work.item", 1);
                await member.WaitForCountAsync(unacknowledged.Length + 1);
                Assert.Equal(fresh[0], member.Sequences[^1]);
                Assert.False(IsRedelivered(member.Events[^1]));
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task JoiningWithOtherTopicsOrDispatch_FailsNamingTheField_AndCreatesNothing()
    {
        await using var hub = await TestHub.StartAsync();
        await using var client = hub.NewClient();
        await using var member = await client.OpenAsync(new SubscribeRequest("work.*") { Group = "strict" });

        var topics = await Assert.ThrowsAsync<Microsoft.AspNetCore.SignalR.HubException>(() => client.OpenAsync(new SubscribeRequest("other.*") { Group = "strict" }));
        var dispatch = await Assert.ThrowsAsync<Microsoft.AspNetCore.SignalR.HubException>(() => client.OpenAsync(new SubscribeRequest("work.*") { Group = "strict", Dispatch = GroupDispatch.Partition }));
        var types = await Assert.ThrowsAsync<Microsoft.AspNetCore.SignalR.HubException>(() => client.OpenAsync(new SubscribeRequest("work.*") { Types = ["x"], Group = "strict" }));

        Assert.Contains("group: 'strict'", topics.Message, StringComparison.Ordinal);
        Assert.Contains("topics", topics.Message, StringComparison.Ordinal);
        Assert.Contains("dispatch", dispatch.Message, StringComparison.Ordinal);
        Assert.Contains("types", types.Message, StringComparison.Ordinal);
        Assert.Equal([member], client.Subscriptions);
        Assert.Equal(member.Id, Assert.Single(await hub.GetSubscriptionsAsync()).GetProperty("subscriptionId").GetString());
        var group = Assert.Single(await hub.Http.GetFromJsonAsync<JsonElement[]>("api/groups") ?? []);
        Assert.Equal(1, group.GetProperty("members").GetArrayLength());
    }

    [Fact]
    public async Task PartitionGroup_EventsWithoutAKey_AreSpreadAndEachHandledOnce()
    {
        await using var hub = await TestHub.StartAsync();
        var joined = new List<(client::Hub.Client.HubClient Client, ClientSubscription Member)>();
        try
        {
            joined.Add(await JoinWithClientAsync(hub, "keyless", GroupDispatch.Partition));
            joined.Add(await JoinWithClientAsync(hub, "keyless", GroupDispatch.Partition));
            var (first, second) = (joined[0].Member, joined[1].Member);

            var published = await hub.PublishManyAsync("work.item", 200);
            await Eventually.TrueAsync(() => first.Count + second.Count >= 200, "200 handled between them");

            Assert.Equal(published, first.Sequences.Concat(second.Sequences).Order());
            Assert.True(first.Count > 0 && second.Count > 0, "keyless events are spread over the members");
        }
        finally
        {
            await LeaveAsync(joined);
        }
    }

    [Fact]
    public async Task Subscriptions_ShowGroupDispatchAndInFlight()
    {
        await using var hub = await TestHub.StartAsync();
        await using var client = await hub.ConnectAsync();
        var member = await client.SubscribeAsync(new SubscribeArgs(["work.*"], MaxDemand: 8, Group: "shown", Dispatch: "partition"));

        await hub.PublishManyAsync("work.item", 5);
        await member.WaitForCountAsync(5);

        var info = await hub.GetSubscriptionAsync(member.Id);
        Assert.Equal("shown", info.GetProperty("group").GetString());
        Assert.Equal("partition", info.GetProperty("dispatch").GetString());
        Assert.Equal(5, info.GetProperty("inFlight").GetInt32());
        Assert.Equal(3, info.GetProperty("credits").GetInt64());
        var group = Assert.Single(await hub.Http.GetFromJsonAsync<JsonElement[]>("api/groups") ?? []);
        Assert.Equal(5, group.GetProperty("inFlight").GetInt64());
        Assert.Equal(5, group.GetProperty("lag").GetInt64());
    }
}
