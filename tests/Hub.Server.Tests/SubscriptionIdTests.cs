using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests;

/// <summary>Subscription ids chosen by the client (<c>Subscribe({id})</c>): they carry the events on their connection,
/// are unique among its live subscriptions and free again once it ended; the REST API keys by the hub's own id.</summary>
public sealed class SubscriptionIdTests
{
    [Fact]
    public async Task ChosenId_CarriesTheEventsAndTakesAsks_WhileRestUsesTheHubsOwnId()
    {
        await using var hub = await TestHub.StartAsync();
        await using var client = await hub.ConnectAsync();
        var published = await hub.PublishManyAsync("ids.a", 6);
        var log = await client.SubscribeAsync(new SubscribeArgs(["ids.>"], After: 0, MaxDemand: 4, MinDemand: 0, Id: "orders:eu-1.a_B"));
        Assert.Equal("orders:eu-1.a_B", log.Id);
        await log.WaitForCountAsync(4);
        await client.AskAsync(log, 2);
        await log.WaitForCountAsync(6);
        Assert.Equal(published, log.Sequences);
        Assert.Empty(log.Violations);
        Assert.Empty(client.Unexpected);

        var listed = Assert.Single(await hub.GetSubscriptionsAsync());
        Assert.Equal("orders:eu-1.a_B", listed.GetProperty("subscriptionId").GetString());
        var restId = listed.GetProperty("id").GetString()!;
        Assert.Matches("^sub_[0-9a-f]{20}$", restId);

        using (var byChosenId = await hub.Http.DeleteAsync("api/subscriptions/orders:eu-1.a_B"))
        {
            Assert.Equal(HttpStatusCode.NotFound, byChosenId.StatusCode);
        }

        using (var byRestId = await hub.Http.DeleteAsync($"api/subscriptions/{restId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, byRestId.StatusCode);
        }

        await Eventually.TrueAsync(() => log.EndedReason == "deleted", "ended, carrying the chosen id");
        Assert.Empty(client.Unexpected);
    }

    [Fact]
    public async Task Subscribe_WithoutId_AnswersTheHubsId_WhichRestListsAsBoth()
    {
        await using var hub = await TestHub.StartAsync();
        await using var client = await hub.ConnectAsync();
        var log = await client.SubscribeAsync(new SubscribeArgs(["ids.b"]));
        var listed = Assert.Single(await hub.GetSubscriptionsAsync());
        Assert.Equal(log.Id, listed.GetProperty("id").GetString());
        Assert.Equal(log.Id, listed.GetProperty("subscriptionId").GetString());
    }

    [Fact]
    public async Task DuplicateId_OnOneConnection_IsRefusedNamingId_AndCreatesNothing_WhileAnotherConnectionMayUseIt()
    {
        await using var hub = await TestHub.StartAsync();
        await using var first = await hub.ConnectAsync();
        await using var second = await hub.ConnectAsync();
        var a = await first.SubscribeAsync(new SubscribeArgs(["dup.a"], Id: "work"));

        var error = await Assert.ThrowsAsync<HubInvocationException>(() => first.SubscribeAsync(new SubscribeArgs(["dup.b"], Id: "work")));
        Assert.Contains("HubException: id: 'work' is the id of a live subscription on this connection", error.Message, StringComparison.Ordinal);
        var listed = Assert.Single(await hub.GetSubscriptionsAsync());
        Assert.Equal(["dup.a"], listed.GetProperty("topics").EnumerateArray().Select(t => t.GetString()));

        // Another connection's ids are its own: the same id there is another subscription, with another hub id.
        var b = await second.SubscribeAsync(new SubscribeArgs(["dup.b"], Id: "work"));
        var all = await hub.GetSubscriptionsAsync();
        Assert.Equal(2, all.Length);
        Assert.All(all, s => Assert.Equal("work", s.GetProperty("subscriptionId").GetString()));
        Assert.NotEqual(all[0].GetProperty("id").GetString(), all[1].GetProperty("id").GetString());
        Assert.NotEqual(all[0].GetProperty("connectionId").GetString(), all[1].GetProperty("connectionId").GetString());

        var toA = await hub.PublishAsync(new { topic = "dup.a" });
        var toB = await hub.PublishAsync(new { topic = "dup.b" });
        await a.WaitForCountAsync(1);
        await b.WaitForCountAsync(1);
        Assert.Equal(toA, a.Sequences);
        Assert.Equal(toB, b.Sequences);

        // Ending one of them by its hub id leaves the other.
        var bRestId = all.Single(s => s.GetProperty("topics")[0].GetString() == "dup.b").GetProperty("id").GetString();
        using var deleted = await hub.Http.DeleteAsync($"api/subscriptions/{bRestId}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await Eventually.TrueAsync(() => b.EndedReason == "deleted", "b ended");
        var left = Assert.Single(await hub.GetSubscriptionsAsync());
        Assert.Equal(["dup.a"], left.GetProperty("topics").EnumerateArray().Select(t => t.GetString()));
        Assert.Null(a.EndedReason);
        Assert.Empty(first.Unexpected);
        Assert.Empty(second.Unexpected);
    }

    [Fact]
    public async Task ChosenId_MatchingAnotherConnectionsHubId_IsAnotherSubscription()
    {
        await using var hub = await TestHub.StartAsync();
        await using var first = await hub.ConnectAsync();
        await using var second = await hub.ConnectAsync();
        var serverChosen = await first.SubscribeAsync(new SubscribeArgs(["same.a"]));
        var clientChosen = await second.SubscribeAsync(new SubscribeArgs(["same.b"], Id: serverChosen.Id));

        using var deleted = await hub.Http.DeleteAsync($"api/subscriptions/{serverChosen.Id}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await Eventually.TrueAsync(() => serverChosen.EndedReason == "deleted", "the first connection's subscription ended");
        var left = Assert.Single(await hub.GetSubscriptionsAsync());
        Assert.Equal(serverChosen.Id, left.GetProperty("subscriptionId").GetString());
        Assert.NotEqual(serverChosen.Id, left.GetProperty("id").GetString());
        Assert.Null(clientChosen.EndedReason);
    }

    [Fact]
    public async Task Id_MayBeUsedAgain_OnceItsSubscriptionEnded_ByUnsubscribeOrByTheHub()
    {
        await using var hub = await TestHub.StartAsync();
        await using var client = await hub.ConnectAsync();
        var first = await client.SubscribeAsync(new SubscribeArgs(["again.a"], Id: "again"));
        var before = await hub.PublishAsync(new { topic = "again.a" });
        await first.WaitForCountAsync(1);
        await client.UnsubscribeAsync(first);

        var second = await client.SubscribeAsync(new SubscribeArgs(["again.a"], Id: "again"));
        var after = await hub.PublishAsync(new { topic = "again.a" });
        await second.WaitForCountAsync(1);
        Assert.Equal(after, second.Sequences);
        Assert.NotEqual(before, after);

        var restId = Assert.Single(await hub.GetSubscriptionsAsync()).GetProperty("id").GetString();
        using var deleted = await hub.Http.DeleteAsync($"api/subscriptions/{restId}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await Eventually.TrueAsync(() => second.EndedReason == "deleted", "ended by the hub");

        var third = await client.SubscribeAsync(new SubscribeArgs(["again.b"], Id: "again"));
        var last = await hub.PublishAsync(new[] { new { topic = "again.a" }, new { topic = "again.b" } });
        await third.WaitForCountAsync(1);
        Assert.Equal([last[1]], third.Sequences);
        Assert.Equal("again", Assert.Single(await hub.GetSubscriptionsAsync()).GetProperty("subscriptionId").GetString());
    }

    [Fact]
    public async Task GroupMember_TakesAChosenId_ItsEventsAndAcknowledgementsGoByIt_UniqueAmongTheConnectionsSubscriptions_AndFreeOnceItLeft()
    {
        await using var hub = await TestHub.StartAsync();
        await using var client = await hub.ConnectAsync();
        var plain = await client.SubscribeAsync(new SubscribeArgs(["jobs.other"], Id: "worker:1"));

        // A group member may not take the id of a live subscription on its connection, nor one of another member.
        var taken = await Assert.ThrowsAsync<HubInvocationException>(() => client.SubscribeAsync(new SubscribeArgs(["jobs.>"], Demand: "manual", Group: "printers", Id: "worker:1")));
        Assert.Contains("HubException: id: 'worker:1' is the id of a live subscription on this connection", taken.Message, StringComparison.Ordinal);
        Assert.Empty(await hub.Http.GetFromJsonAsync<JsonElement[]>("api/groups") ?? []);
        var member = await client.SubscribeAsync(new SubscribeArgs(["jobs.>"], Demand: "manual", Group: "printers", Id: "printer-1"));
        Assert.Equal("printer-1", member.Id);
        var again = await Assert.ThrowsAsync<HubInvocationException>(() => client.SubscribeAsync(new SubscribeArgs(["jobs.>"], Demand: "manual", Group: "printers", Id: "printer-1")));
        Assert.Contains("HubException: id: 'printer-1' is the id of a live subscription on this connection", again.Message, StringComparison.Ordinal);

        // Its events come under the chosen id; an Ask by that id grants credits and acknowledges.
        var published = await hub.PublishManyAsync("jobs.print", 5);
        await client.AskAsync(member, 5);
        await member.WaitForCountAsync(5);
        Assert.Equal(published, member.Sequences);
        await client.AskAsync(member, 5);
        await Eventually.TrueAsync(async () => Assert.Single(await hub.Http.GetFromJsonAsync<JsonElement[]>("api/groups") ?? []).GetProperty("position").GetInt64() == published[^1],
            "the group's position at the acknowledged events");
        var listedMember = Assert.Single(await hub.GetSubscriptionsAsync(), s => s.GetProperty("subscriptionId").GetString() == "printer-1");
        var group = Assert.Single(await hub.Http.GetFromJsonAsync<JsonElement[]>("api/groups") ?? []);
        Assert.Equal([listedMember.GetProperty("id").GetString()], group.GetProperty("members").EnumerateArray().Select(m => m.GetString()));

        // Once it left, its id is free again, for another member of the group.
        await client.UnsubscribeAsync(member);
        var rejoined = await client.SubscribeAsync(new SubscribeArgs(["jobs.>"], Demand: "manual", Group: "printers", Id: "printer-1"));
        var next = await hub.PublishManyAsync("jobs.print", 1);
        await client.AskAsync(rejoined, 1);
        await rejoined.WaitForCountAsync(1);
        Assert.Equal(next, rejoined.Sequences);
        Assert.Equal(published, member.Sequences);
        Assert.Equal(0, plain.Count);
        Assert.Empty(client.Unexpected);
    }

    [Fact]
    public async Task ChosenId_EqualToTheHubsIdOfALiveSubscriptionOnTheConnection_IsRefused()
    {
        await using var hub = await TestHub.StartAsync();
        await using var client = await hub.ConnectAsync();
        var serverChosen = await client.SubscribeAsync(new SubscribeArgs(["same.a"]));
        var error = await Assert.ThrowsAsync<HubInvocationException>(() => client.SubscribeAsync(new SubscribeArgs(["same.b"], Id: serverChosen.Id)));
        Assert.Contains($"HubException: id: '{serverChosen.Id}' is the id of a live subscription on this connection", error.Message, StringComparison.Ordinal);
        Assert.Equal(serverChosen.Id, Assert.Single(await hub.GetSubscriptionsAsync()).GetProperty("subscriptionId").GetString());
    }

    [Theory]
    [InlineData("""{"topics":["a"],"id":""}""")]
    [InlineData("""{"topics":["a"],"id":"has space"}""")]
    [InlineData("""{"topics":["a"],"id":"a/b"}""")]
    [InlineData("""{"topics":["a"],"id":"é"}""")]
    [InlineData("""{"topics":["a"],"id":"x1234567890123456789012345678901234567890123456789012345678901234"}""")]
    [InlineData("""{"topics":["a"],"id":7}""")]
    [InlineData("""{"topics":["a"],"id":["a"]}""")]
    public async Task BadId_FailsNamingId_AndCreatesNothing(string request)
    {
        await using var hub = await TestHub.StartAsync();
        await using var client = await hub.ConnectAsync();
        var error = await Assert.ThrowsAsync<HubInvocationException>(() => client.InvokeAsync("Subscribe", JsonDocument.Parse(request).RootElement));
        Assert.Contains("HubException: id: must be null or 1 to 64 characters of [A-Za-z0-9_.:-]", error.Message, StringComparison.Ordinal);
        Assert.Empty(await hub.GetSubscriptionsAsync());
    }

    [Fact]
    public async Task LongestId_SixtyFourCharacters_IsTaken()
    {
        await using var hub = await TestHub.StartAsync();
        await using var client = await hub.ConnectAsync();
        var id = new string('z', 63) + "9";
        var log = await client.SubscribeAsync(new SubscribeArgs(["a"], Id: id));
        Assert.Equal(id, log.Id);
        Assert.Equal(id, Assert.Single(await hub.GetSubscriptionsAsync()).GetProperty("subscriptionId").GetString());
    }
}
