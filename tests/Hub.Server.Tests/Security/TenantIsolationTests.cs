using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Server.Api;
using Hub.Server.Handlers;
using Hub.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Server.Tests.Security;

/// <summary>
/// Tenants stay in their lane (issue 13): two credentials on a hub that requires them, A granted <c>a.&gt;</c> and B
/// <c>b.&gt;</c>, over real sockets. What one sends with the same idempotency key or the same group name as the other
/// is its own: it neither reads, moves, pre-empts nor learns about the other's.
/// </summary>
public sealed class TenantIsolationTests
{
    private static readonly string TokenA = Credentials.Token("tenant-a", subscribe: ["a.>"], publish: ["a.>"]);
    private static readonly string TokenB = Credentials.Token("tenant-b", subscribe: ["b.>"], publish: ["b.>"]);

    private static Task<TestHub> StartAsync(IDictionary<string, string?>? more = null) => TestHub.StartAsync(Credentials.RequiredSettings(more));

    /// <summary>A hub on the log <paramref name="kind"/>; for Postgres, on a database of the test's own, dropped with it.</summary>
    private static async Task<(TestHub Hub, PostgresDatabase? Database)> StartOnAsync(string kind)
    {
        var settings = new Dictionary<string, string?> { ["Hub:Log:Kind"] = kind };
        var database = kind == "Postgres" ? await PostgresDatabase.CreateAsync() : null;
        if (database is not null)
        {
            settings["Hub:Log:Postgres:ConnectionString"] = database.ConnectionString;
        }

        try
        {
            return (await StartAsync(settings), database);
        }
        catch
        {
            if (database is not null)
            {
                await database.DisposeAsync();
            }

            throw;
        }
    }

    private static async Task StopAsync(TestHub hub, PostgresDatabase? database)
    {
        await hub.DisposeAsync();
        if (database is not null)
        {
            await database.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("Memory")]
    [InlineData("Sqlite")]
    [InlineData("Postgres")]
    public async Task IdempotencyKey_UsedByAnotherTenant_IsAnotherKey_ItsEventIsAppendedAndItGetsItsOwnAnswer(string kind)
    {
        var (hub, database) = await StartOnAsync(kind);
        try
        {
            await AssertIdempotencyKeysPerTenantAsync(hub);
        }
        finally
        {
            await StopAsync(hub, database);
        }
    }

    private static async Task AssertIdempotencyKeysPerTenantAsync(TestHub hub)
    {
        var (statusA, answerA) = await PublishAsync(hub, TokenA, new { topic = "a.orders", data = "A" }, "k1");
        var (statusB, answerB) = await PublishAsync(hub, TokenB, new { topic = "b.orders", data = "B" }, "k1");
        Assert.Equal((HttpStatusCode.Accepted, HttpStatusCode.Accepted), (statusA, statusB));
        Assert.Equal("""{"events":[{"sequence":1,"topic":"a.orders","id":null,"duplicate":false}]}""", answerA!.ToJsonString());
        Assert.Equal("""{"events":[{"sequence":2,"topic":"b.orders","id":null,"duplicate":false}]}""", answerB!.ToJsonString());

        // Each tenant's retry answers its own first answer and appends nothing.
        var (_, againA) = await PublishAsync(hub, TokenA, new { topic = "a.orders", data = "A again" }, "k1");
        var (_, againB) = await PublishAsync(hub, TokenB, new { topic = "b.orders", data = "B again" }, "k1");
        Assert.True(JsonNode.DeepEquals(answerA, againA), $"A's retry answered {againA}");
        Assert.True(JsonNode.DeepEquals(answerB, againB), $"B's retry answered {againB}");
        Assert.Equal([("a.orders", "A"), ("b.orders", "B")], await ReadAllAsync(hub));
    }

    [Fact]
    public async Task IdempotencyKey_PreEmptedByAnotherTenant_TheOwnersPublishIsStillAppended()
    {
        await using var hub = await StartAsync();

        // B guesses the keys A will use next, and uses them first.
        foreach (var key in new[] { "order-1", "order-2" })
        {
            Assert.Equal(HttpStatusCode.Accepted, (await PublishAsync(hub, TokenB, new { topic = "b.noise", data = key }, key)).Status);
        }

        var (status, answer) = await PublishAsync(hub, TokenA, new { topic = "a.orders", data = "order-1" }, "order-1");
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("""{"events":[{"sequence":3,"topic":"a.orders","id":null,"duplicate":false}]}""", answer!.ToJsonString());
        Assert.Equal([("b.noise", "order-1"), ("b.noise", "order-2"), ("a.orders", "order-1")], await ReadAllAsync(hub));
    }

    [Theory]
    [InlineData("Sqlite")]
    [InlineData("Postgres")]
    public async Task IdempotencyKeys_SurviveARestart_EachStillItsOwnTenants(string kind)
    {
        var directory = Directory.CreateTempSubdirectory("hub-isolation-restart-").FullName;
        var database = kind == "Postgres" ? await PostgresDatabase.CreateAsync() : null;
        var settings = database is null
            ? new Dictionary<string, string?> { ["Hub:Log:Sqlite:Path"] = Path.Combine(directory, "hub.db") }
            : new Dictionary<string, string?> { ["Hub:Log:Kind"] = "Postgres", ["Hub:Log:Postgres:ConnectionString"] = database.ConnectionString };
        try
        {
            JsonNode? answerA, answerB;
            await using (var hub = await StartAsync(settings))
            {
                (_, answerA) = await PublishAsync(hub, TokenA, new { topic = "a.x", data = 1 }, "k1");
                (_, answerB) = await PublishAsync(hub, TokenB, new { topic = "b.x", data = 2 }, "k1");
            }

            await using (var hub = await StartAsync(settings))
            {
                Assert.True(JsonNode.DeepEquals(answerA, (await PublishAsync(hub, TokenA, new { topic = "a.x", data = 3 }, "k1")).Body));
                Assert.True(JsonNode.DeepEquals(answerB, (await PublishAsync(hub, TokenB, new { topic = "b.x", data = 4 }, "k1")).Body));

                // A third credential's k1 is a third key; the orders API key (subject key:orders) is one more.
                var tokenC = Credentials.Token("tenant-c", publish: ["orders.>"]);
                Assert.Equal(3, SequenceOf((await PublishAsync(hub, tokenC, new { topic = "orders.x", data = 5 }, "k1")).Body));
                Assert.Equal(4, SequenceOf((await PublishAsync(hub, Credentials.OrdersKey, new { topic = "orders.x", data = 6 }, "k1")).Body));
                Assert.Equal([("a.x", "1"), ("b.x", "2"), ("orders.x", "5"), ("orders.x", "6")], await ReadAllAsync(hub));
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
            if (database is not null)
            {
                await database.DisposeAsync();
            }
        }
    }

    /// <summary>A token may not claim a subject the hub gives to others: an API key's (<c>key:NAME</c>) or the in-process
    /// publisher's; with it, it would share their idempotency keys (answer their keys, pre-empt them), limits and logs.</summary>
    [Theory]
    [InlineData("key:orders")]
    [InlineData(HubPublisher.Subject)]
    [InlineData(HubPublisher.Subject + "handlers")]
    public async Task Token_ClaimingASubjectTheHubGivesToOthers_IsRefused_SoItCannotShareTheirIdempotencyKeys(string subject)
    {
        await using var hub = await StartAsync();
        var (status, _) = await PublishAsync(hub, Credentials.OrdersKey, new { topic = "orders.x", data = 1 }, "k1");
        Assert.Equal(HttpStatusCode.Accepted, status);
        await hub.Services.GetRequiredService<IHubPublisher>().PublishAsync([new NewEvent("orders.x", 2)], idempotencyKey: "k2");

        var impostor = Credentials.Token(subject, subscribe: [">"], publish: ["orders.>"]);
        foreach (var key in new[] { "k1", "k2" })
        {
            using var request = Credentials.Request(HttpMethod.Post, "api/events", impostor, TestHub.Json(new { topic = "orders.x", data = 3 }));
            request.Headers.Add("Idempotency-Key", key);
            using var response = await hub.Http.SendAsync(request);
            await AuthTests.AssertProblem(response, HttpStatusCode.Unauthorized, "credentials");
        }

        await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => HubClient.ConnectAsync(hub.Address, accessToken: impostor));
        Assert.Equal([("orders.x", "1"), ("orders.x", "2")], await ReadAllAsync(hub));
    }

    /// <summary><see cref="IHubPublisher"/>'s idempotency keys are its own subject's: a credential sending the same key is
    /// answered its own, and neither reads nor pre-empts the in-process one (nor the other way round).</summary>
    [Fact]
    public async Task IdempotencyKey_OfTheInProcessPublisher_IsNotACredentialsKey_NorTheOtherWayRound()
    {
        await using var hub = await StartAsync();
        var publisher = hub.Services.GetRequiredService<IHubPublisher>();

        // A publishes k1 first; the in-process publisher's k1 is another key. Then the in-process publisher uses k2 first.
        var (statusA, answerA) = await PublishAsync(hub, TokenA, new { topic = "a.x", data = "A k1" }, "k1");
        Assert.Equal(HttpStatusCode.Accepted, statusA);
        var inProcess1 = await publisher.PublishAsync([new NewEvent("a.x", "in-process k1")], idempotencyKey: "k1");
        var inProcess2 = await publisher.PublishAsync([new NewEvent("a.x", "in-process k2")], idempotencyKey: "k2");
        var (_, answerA2) = await PublishAsync(hub, TokenA, new { topic = "a.x", data = "A k2" }, "k2");
        Assert.Equal(new[] { new PublishedEvent(2, "a.x", null, false) }, inProcess1);
        Assert.Equal(new[] { new PublishedEvent(3, "a.x", null, false) }, inProcess2);
        Assert.Equal(4, SequenceOf(answerA2));

        // Each again: its own first answer, nothing appended.
        Assert.Equal(inProcess1, await publisher.PublishAsync([new NewEvent("a.x", "again")], idempotencyKey: "k1"));
        Assert.True(JsonNode.DeepEquals(answerA, (await PublishAsync(hub, TokenA, new { topic = "a.x", data = "again" }, "k1")).Body));
        Assert.Equal([("a.x", "A k1"), ("a.x", "in-process k1"), ("a.x", "in-process k2"), ("a.x", "A k2")], await ReadAllAsync(hub));
    }

    /// <summary>The finding of issue 13: B's group of A's name started from A's stored position and moved it; A then
    /// never got the events published while it was away.</summary>
    [Theory]
    [InlineData("Sqlite")]
    [InlineData("Postgres")]
    public async Task GroupName_TakenByAnotherTenantWhileTheFirstIsAway_IsAnotherGroup_TheFirstGetsEveryEventPublishedMeanwhile(string kind)
    {
        var (hub, database) = await StartOnAsync(kind);
        try
        {
            await AssertGroupNameTakenWhileAwayAsync(hub);
        }
        finally
        {
            await StopAsync(hub, database);
        }
    }

    private static async Task AssertGroupNameTakenWhileAwayAsync(TestHub hub)
    {
        long[] acknowledged;
        await using (var a = await ConnectAsync(hub, TokenA))
        {
            var member = await a.SubscribeAsync(new SubscribeArgs(["a.>"], Demand: "manual", Group: "billing"));
            acknowledged = await PublishManyAsync(hub, TokenA, "a.x", 10);
            await a.AskAsync(member, 10);
            await member.WaitForCountAsync(10);
            await a.AskAsync(member, 10); // acknowledges the ten
            await Eventually.TrueAsync(async () => (await GroupsAsync(hub, TokenA)).Single().GetProperty("position").GetInt64() == acknowledged[^1],
                "A's group acknowledged the ten");
            await a.UnsubscribeAsync(member);
        }

        var meanwhile = new List<long>(await PublishManyAsync(hub, TokenA, "a.x", 5));
        await using var b = await ConnectAsync(hub, TokenB);
        var bMember = await b.SubscribeAsync(new SubscribeArgs(["b.x"], Group: "billing"), (log, n) => _ = b.AskAsync(log, n));
        Assert.Equal(meanwhile[^1], bMember.Position); // a new group starts at the head, not at A's stored position

        var bEvents = new List<long>();
        for (var round = 0; round < 10; round++)
        {
            meanwhile.AddRange(await PublishManyAsync(hub, TokenA, "a.x", 10));
            bEvents.AddRange(await PublishManyAsync(hub, TokenB, "b.x", 1));
        }

        await bMember.WaitForCountAsync(bEvents.Count);
        await using var a2 = await ConnectAsync(hub, TokenA);
        var back = await a2.SubscribeAsync(new SubscribeArgs(["a.>"], Group: "billing"), (log, n) => _ = a2.AskAsync(log, n));
        Assert.Equal(acknowledged[^1], back.Position);
        await back.WaitForCountAsync(meanwhile.Count);
        Assert.Equal(meanwhile, back.Sequences); // all 105 published while A was away, none of B's
        Assert.Equal(bEvents, bMember.Sequences); // B's own, none of A's
        Assert.Empty(back.Violations);
        Assert.Empty(bMember.Violations);
    }

    [Fact]
    public async Task GroupName_LiveWithAnotherTenantsTopics_IsAnotherGroup_AndEachSeesOnlyItsOwnInTheGroupsList()
    {
        await using var hub = await StartAsync();
        await using var a = await ConnectAsync(hub, TokenA);
        await using var b = await ConnectAsync(hub, TokenB);
        var aMember = await a.SubscribeAsync(new SubscribeArgs(["a.>"], Group: "billing"), (log, n) => _ = a.AskAsync(log, n));
        var bMember = await b.SubscribeAsync(new SubscribeArgs(["b.x"], Group: "billing", Dispatch: "partition"), (log, n) => _ = b.AskAsync(log, n));

        var aPublished = await PublishManyAsync(hub, TokenA, "a.x", 3);
        var bPublished = await PublishManyAsync(hub, TokenB, "b.x", 2);
        await aMember.WaitForCountAsync(3);
        await bMember.WaitForCountAsync(2);
        Assert.Equal(aPublished, aMember.Sequences);
        Assert.Equal(bPublished, bMember.Sequences);

        var asA = await GroupsAsync(hub, TokenA);
        var asB = await GroupsAsync(hub, TokenB);
        Assert.Equal([("billing", "a.>", aMember.Id)], asA.Select(Describe));
        Assert.Equal([("billing", "b.x", bMember.Id)], asB.Select(Describe));
        Assert.DoesNotContain("a.", JsonSerializer.Serialize(asB), StringComparison.Ordinal);

        // The admin grant is the operator's view: every group.
        var asAdmin = await GroupsAsync(hub, Credentials.AdminKey);
        Assert.Equal([("billing", "a.>", aMember.Id), ("billing", "b.x", bMember.Id)], asAdmin.Select(Describe).Order());

        // A credential that may read no group's topics sees none (the orders key may only publish).
        Assert.Empty(await GroupsAsync(hub, Credentials.OrdersKey));
    }

    [Fact]
    public async Task JoiningALiveGroupWithOtherTopics_IsRefusedOnlyForWhoMayReadThem_AndNeverNamesTheirTopics()
    {
        await using var hub = await StartAsync();
        await using var a = await ConnectAsync(hub, TokenA);
        await a.SubscribeAsync(new SubscribeArgs(["a.x", "a.secret"], Group: "billing"));

        // C may read all of the live group's topics: most likely a member asking for the wrong thing; it is refused,
        // told which field differs, not the group's topics.
        await using var c = await ConnectAsync(hub, Credentials.Token("tenant-c", subscribe: ["a.>"]));
        var refused = await Assert.ThrowsAsync<HubInvocationException>(() => c.SubscribeAsync(new SubscribeArgs(["a.x"], Group: "billing")));
        Assert.Contains("group: 'billing'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("other topics", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", refused.Message, StringComparison.Ordinal);

        // D may not read a.secret: it is not told that the group exists; its group of that name is its own.
        await using var d = await ConnectAsync(hub, Credentials.Token("tenant-d", subscribe: ["a.x"]));
        var own = await d.SubscribeAsync(new SubscribeArgs(["a.x"], Group: "billing"));
        Assert.Equal([("billing", "a.x", own.Id)], (await GroupsAsync(hub, Credentials.Token("tenant-d", subscribe: ["a.x"]))).Select(Describe));
        Assert.Equal(2, (await GroupsAsync(hub, Credentials.AdminKey)).Length);
    }

    /// <summary>A group member can be advanced (<c>Ask</c>) or made to leave (<c>Unsubscribe</c>) only from its own
    /// connection, and ended by REST only with the operator's grant: another tenant who knows its ids (the hub's and the
    /// one its client chose) changes nothing, and the member goes on getting its events.</summary>
    [Fact]
    public async Task AnotherTenant_KnowingAGroupMembersIds_CannotAdvanceEndOrDeleteIt()
    {
        await using var hub = await StartAsync();
        await using var a = await ConnectAsync(hub, TokenA);
        var member = await a.SubscribeAsync(new SubscribeArgs(["a.>"], Demand: "manual", Group: "billing", Id: "billing-1"));
        var hubId = Assert.Single((await GroupsAsync(hub, TokenA)).Single().GetProperty("members").EnumerateArray()).GetString()!;
        var published = await PublishManyAsync(hub, TokenA, "a.x", 5);

        await using var b = await ConnectAsync(hub, TokenB);
        foreach (var id in new[] { member.Id, hubId })
        {
            var ask = await Assert.ThrowsAsync<HubInvocationException>(() => b.InvokeAsync("Ask", id, 5));
            Assert.Contains($"subscriptionId: no live subscription '{id}' on this connection", ask.Message, StringComparison.Ordinal);
            var leave = await Assert.ThrowsAsync<HubInvocationException>(() => b.InvokeAsync("Unsubscribe", id));
            Assert.Contains($"subscriptionId: no live subscription '{id}' on this connection", leave.Message, StringComparison.Ordinal);
            using var delete = await hub.Http.SendAsync(Credentials.Request(HttpMethod.Delete, $"api/subscriptions/{id}", TokenB));
            Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
        }

        // Nothing was granted to it (a grant would show as credits, or as events in flight, unacknowledged, until A asks
        // again) and it is still a member.
        var described = Assert.Single(await GroupsAsync(hub, TokenA));
        Assert.Equal([hubId], described.GetProperty("members").EnumerateArray().Select(m => m.GetString()));
        using (var listed = await hub.Http.SendAsync(Credentials.Request(HttpMethod.Get, "api/subscriptions", Credentials.AdminKey)))
        {
            var info = Assert.Single(await listed.Content.ReadFromJsonAsync<JsonElement[]>() ?? []);
            Assert.Equal((hubId, 0L, 0L), (info.GetProperty("id").GetString(), info.GetProperty("credits").GetInt64(), info.GetProperty("inFlight").GetInt64()));
        }

        Assert.Equal(0, member.Count);
        await a.AskAsync(member, 5);
        await member.WaitForCountAsync(5);
        Assert.Equal(published, member.Sequences);
        Assert.Null(member.EndedReason);
    }

    private static (string Name, string Topics, string Members) Describe(JsonElement group) => (
        group.GetProperty("name").GetString()!,
        string.Join(",", group.GetProperty("topics").EnumerateArray().Select(t => t.GetString())),
        string.Join(",", group.GetProperty("members").EnumerateArray().Select(m => m.GetString())));

    private static Task<HubClient> ConnectAsync(TestHub hub, string credential) =>
        credential.Contains('.', StringComparison.Ordinal)
            ? HubClient.ConnectAsync(hub.Address, accessToken: credential)
            : HubClient.ConnectAsync(hub.Address, headers: new Dictionary<string, string> { ["X-Api-Key"] = credential });

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> PublishAsync(TestHub hub, string credential, object body, string? key = null)
    {
        using var request = Credentials.Request(HttpMethod.Post, "api/events", credential, TestHub.Json(body));
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        using var response = await hub.Http.SendAsync(request);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync()));
    }

    private static async Task<long[]> PublishManyAsync(TestHub hub, string credential, string topic, int count)
    {
        var (status, body) = await PublishAsync(hub, credential, Enumerable.Range(0, count).Select(i => new { topic, data = i }).ToArray());
        Assert.Equal(HttpStatusCode.Accepted, status);
        return body!["events"]!.AsArray().Select(e => e!["sequence"]!.GetValue<long>()).ToArray();
    }

    private static long SequenceOf(JsonNode? answer) => answer!["events"]![0]!["sequence"]!.GetValue<long>();

    private static async Task<JsonElement[]> GroupsAsync(TestHub hub, string credential)
    {
        using var response = await hub.Http.SendAsync(Credentials.Request(HttpMethod.Get, "api/groups", credential));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement[]>())!;
    }

    /// <summary>Every event in the log as (topic, data), read with the admin key.</summary>
    private static async Task<List<(string Topic, string Data)>> ReadAllAsync(TestHub hub)
    {
        using var response = await hub.Http.SendAsync(Credentials.Request(HttpMethod.Get, "api/events?after=0&limit=1000", Credentials.AdminKey));
        var page = await response.Content.ReadFromJsonAsync<JsonElement>();
        return page.GetProperty("events").EnumerateArray()
            .Select(e => (e.GetProperty("topic").GetString()!, e.GetProperty("data").ValueKind == JsonValueKind.String ? e.GetProperty("data").GetString()! : e.GetProperty("data").GetRawText()))
            .ToList();
    }
}
