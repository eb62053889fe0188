using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests.Security;

/// <summary>Each limit, configured small, refuses what is past it (naming the field) and nothing before it.</summary>
public sealed class LimitsTests
{
    [Fact]
    public async Task EventLargerThanMaxEventBytes_Answers400NamingTheEvent_AndAppendsNothing()
    {
        await using var hub = await TestHub.StartAsync(new Dictionary<string, string?> { ["Hub:Publish:MaxEventBytes"] = "1024" });
        using var response = await hub.Http.PostAsync("api/events", TestHub.Json(new object[] { new { topic = "a", data = "small" }, new { topic = "a", data = new string('x', 2000) } }));
        var problem = await AuthTests.AssertProblem(response, HttpStatusCode.BadRequest, "[1]");
        Assert.Contains("Hub:Publish:MaxEventBytes", problem.GetProperty("detail").GetString());
        Assert.Equal(0, await hub.GetHeadAsync());
        Assert.Single(await hub.PublishAsync(new { topic = "a", data = new string('x', 800) }));
    }

    [Fact]
    public async Task TopicLongerThan255_Answers400NamingTheTopic_And255IsAccepted()
    {
        await using var hub = await TestHub.StartAsync();
        using var response = await hub.Http.PostAsync("api/events", TestHub.Json(new { topic = new string('t', 256) }));
        await AuthTests.AssertProblem(response, HttpStatusCode.BadRequest, "topic");
        Assert.Single(await hub.PublishAsync(new { topic = new string('t', 255) }));
    }

    [Fact]
    public async Task SubscriptionsPastMaxPerConnection_FailNamingTheSetting()
    {
        await using var hub = await TestHub.StartAsync(new Dictionary<string, string?> { ["Hub:Subscriptions:MaxPerConnection"] = "2" });
        await using var client = await hub.ConnectAsync();
        await client.SubscribeAsync(new { topics = new[] { "a" } });
        await client.SubscribeAsync(new { topics = new[] { "b" } });
        var error = await Assert.ThrowsAsync<HubInvocationException>(() => client.SubscribeAsync(new { topics = new[] { "c" } }));
        Assert.Contains("Hub:Subscriptions:MaxPerConnection", error.Message);
        Assert.Equal(2, (await hub.GetSubscriptionsAsync()).Length);
    }

    [Fact]
    public async Task AskLargerThanMaxAsk_FailsNamingN_AndMaxAskIsGranted()
    {
        await using var hub = await TestHub.StartAsync(new Dictionary<string, string?> { ["Hub:Limits:MaxAsk"] = "100" });
        await using var client = await hub.ConnectAsync();
        var subscription = await client.SubscribeAsync(new SubscribeArgs(["a"], Demand: "manual"));
        var error = await Assert.ThrowsAsync<HubInvocationException>(() => client.InvokeAsync("Ask", subscription.Id, 101));
        Assert.Contains("n: may be at most 100", error.Message);
        Assert.Equal(0, (await hub.GetSubscriptionAsync(subscription.Id)).GetProperty("credits").GetInt64());

        await client.AskAsync(subscription, 100);
        Assert.Equal(100, (await hub.GetSubscriptionAsync(subscription.Id)).GetProperty("credits").GetInt64());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("g")]
    public async Task RepeatedAsks_CannotRaiseTheCreditsHeldPastMaxAsk_ButAsksThatFollowDeliveriesAreGranted(string? group)
    {
        await using var hub = await TestHub.StartAsync(new Dictionary<string, string?> { ["Hub:Limits:MaxAsk"] = "100" });
        await using var client = await hub.ConnectAsync();
        var subscription = await client.SubscribeAsync(new SubscribeArgs(["a"], Demand: "manual", Group: group));
        await client.AskAsync(subscription, 60);

        var error = await Assert.ThrowsAsync<HubInvocationException>(() => client.InvokeAsync("Ask", subscription.Id, 60));
        Assert.Contains("n: would raise the credits held to 120, more than 100 (Hub:Limits:MaxAsk; 60 held, got 60)", error.Message, StringComparison.Ordinal);
        Assert.Equal(60, (await hub.GetSubscriptionAsync(subscription.Id)).GetProperty("credits").GetInt64());

        // Once the 60 are delivered (and, in a group, acknowledged by the next Ask), the same grant fits again.
        var published = await hub.PublishManyAsync("a", 60);
        await subscription.WaitForCountAsync(60);
        Assert.Equal(published, subscription.Sequences);
        await client.AskAsync(subscription, 60);
        Assert.Equal(60, (await hub.GetSubscriptionAsync(subscription.Id)).GetProperty("credits").GetInt64());
    }

    [Theory]
    [InlineData(101L, null)]
    [InlineData(2147483647L, null)]
    [InlineData(2147483647L, "workers")]
    public async Task MaxDemandLargerThanMaxAsk_FailsNamingMaxDemandAndTheSetting_CreatesNothing_AndMaxAskIsAccepted(long maxDemand, string? group)
    {
        await using var hub = await TestHub.StartAsync(new Dictionary<string, string?> { ["Hub:Limits:MaxAsk"] = "100" });
        await using var client = await hub.ConnectAsync();
        var error = await Assert.ThrowsAsync<HubInvocationException>(() => client.SubscribeAsync(new { topics = new[] { "a" }, maxDemand, group }));
        Assert.Contains($"maxDemand: may be at most 100 (Hub:Limits:MaxAsk, the bound of Ask's n; got {maxDemand})", error.Message, StringComparison.Ordinal);
        Assert.Empty(await hub.GetSubscriptionsAsync());
        Assert.Empty(await hub.Http.GetFromJsonAsync<JsonElement[]>("api/groups") ?? []);

        var accepted = await client.SubscribeAsync(new SubscribeArgs(["a"], MaxDemand: 100, Group: group));
        Assert.Equal(100, (await hub.GetSubscriptionAsync(accepted.Id)).GetProperty("credits").GetInt64());
    }

    [Fact]
    public async Task TopicsAndTypesPastTheirSettings_FailNamingTheFieldAndTheSetting_CreateNothing_AndTheBoundIsAccepted()
    {
        await using var hub = await TestHub.StartAsync(new Dictionary<string, string?>
        {
            ["Hub:Limits:MaxSubscribeTopics"] = "3",
            ["Hub:Limits:MaxSubscribeTypes"] = "2",
        });
        await using var client = await hub.ConnectAsync();
        var topics = await Assert.ThrowsAsync<HubInvocationException>(() => client.SubscribeAsync(new { topics = new[] { "a", "b", "c", "d" } }));
        Assert.Contains("topics: must hold 1 to 3 patterns (Hub:Limits:MaxSubscribeTopics; got 4)", topics.Message, StringComparison.Ordinal);
        var types = await Assert.ThrowsAsync<HubInvocationException>(() => client.SubscribeAsync(new { topics = new[] { "a" }, types = new[] { "x", "y", "z" } }));
        Assert.Contains("types: may hold at most 2 types (Hub:Limits:MaxSubscribeTypes; got 3)", types.Message, StringComparison.Ordinal);
        Assert.Empty(await hub.GetSubscriptionsAsync());

        var accepted = await client.SubscribeAsync(new SubscribeArgs(["a", "b", "c"], Types: ["x", "y"]));
        var listed = await hub.GetSubscriptionAsync(accepted.Id);
        Assert.Equal(["a", "b", "c"], listed.GetProperty("topics").EnumerateArray().Select(t => t.GetString()));
    }

    [Fact]
    public async Task ReadLimitOverMaxReadEvents_Answers400NamingLimitAndTheSetting_AndTheDefaultIsCappedByIt()
    {
        await using var hub = await TestHub.StartAsync(new Dictionary<string, string?> { ["Hub:Limits:MaxReadEvents"] = "5" });
        var published = await hub.PublishManyAsync("a", 8);
        using (var over = await hub.Http.GetAsync("api/events?after=0&limit=6"))
        {
            var problem = await AuthTests.AssertProblem(over, HttpStatusCode.BadRequest, "limit");
            Assert.Contains("Hub:Limits:MaxReadEvents", problem.GetProperty("detail").GetString());
        }

        var page = await hub.Http.GetFromJsonAsync<JsonElement>("api/events?after=0&limit=5");
        Assert.Equal(published[..5], page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64()));
        var byDefault = await hub.Http.GetFromJsonAsync<JsonElement>("api/events?after=0"); // the default (100) is capped by the bound
        Assert.Equal(published[..5], byDefault.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64()));

        var atHead = await hub.Http.GetFromJsonAsync<JsonElement>($"api/events?after={published[^1]}");
        Assert.Equal(0, atHead.GetProperty("events").GetArrayLength());
        Assert.Equal(published[^1], atHead.GetProperty("next").GetInt64());
    }

    [Fact]
    public async Task NewGroupPastMaxGroupPositions_FailsNamingTheSetting_AndAKnownGroupStillJoins()
    {
        await using var hub = await TestHub.StartAsync(new Dictionary<string, string?> { ["Hub:Log:MaxGroupPositions"] = "1" });
        await using var client = await hub.ConnectAsync();
        var first = await client.SubscribeAsync(new SubscribeArgs(["work.*"], Group: "kept"));
        var error = await Assert.ThrowsAsync<HubInvocationException>(() => client.SubscribeAsync(new SubscribeArgs(["work.*"], Group: "another")));
        Assert.Contains("group: 'another'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Hub:Log:MaxGroupPositions", error.Message, StringComparison.Ordinal);

        // Gone, the group keeps its place: the same name with other topics is another group, and would need one more.
        await client.UnsubscribeAsync(first);
        var other = await Assert.ThrowsAsync<HubInvocationException>(() => client.SubscribeAsync(new SubscribeArgs(["other.*"], Group: "kept")));
        Assert.Contains("Hub:Log:MaxGroupPositions", other.Message, StringComparison.Ordinal);
        var again = await client.SubscribeAsync(new SubscribeArgs(["work.*"], Group: "kept"));
        Assert.Equal(["kept"], (await hub.GetSubscriptionsAsync()).Select(s => s.GetProperty("group").GetString()));
        Assert.Equal(again.Id, (await hub.GetSubscriptionsAsync()).Single().GetProperty("id").GetString());
    }

    [Fact]
    public async Task HubMessageLargerThanMaxHubMessageBytes_ClosesThatConnectionOnly()
    {
        await using var hub = await TestHub.StartAsync(new Dictionary<string, string?> { ["Hub:Limits:MaxHubMessageBytes"] = "2048" });
        await using var bystander = await hub.ConnectAsync();
        var watching = await bystander.SubscribeAsync(new { topics = new[] { "a" } });

        await using var client = await hub.ConnectAsync();
        var types = Enumerable.Range(0, 40).Select(i => new string('t', 100)).ToArray(); // about 4 KB
        await client.SendFrameAsync(Encoding.UTF8.GetBytes($"{{\"type\":1,\"invocationId\":\"big\",\"target\":\"Subscribe\",\"arguments\":[{{\"topics\":[\"a\"],\"types\":[\"{string.Join("\",\"", types)}\"]}}]}}\u001e"));
        await client.Closed.WaitAsync(TimeSpan.FromSeconds(10));

        await hub.PublishAsync(new { topic = "a" });
        await watching.WaitForCountAsync(1);
        Assert.Single(await hub.GetSubscriptionsAsync()); // the big Subscribe created nothing
    }

    [Fact]
    public async Task ConnectionsPastMaxConnectionsPerSubject_AreClosedWithAnError_OthersAreNotCounted()
    {
        await using var hub = await TestHub.StartAsync(Credentials.RequiredSettings(new Dictionary<string, string?> { ["Hub:Limits:MaxConnectionsPerSubject"] = "2" }));
        var token = Credentials.Token("busy", subscribe: [">"]);
        var first = await HubClient.ConnectAsync(hub.Address, accessToken: token);
        await using var second = await HubClient.ConnectAsync(hub.Address, accessToken: token);
        await using var third = await HubClient.ConnectAsync(hub.Address, accessToken: token);
        await third.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("Hub:Limits:MaxConnectionsPerSubject", third.CloseError);

        await using var other = await HubClient.ConnectAsync(hub.Address, accessToken: Credentials.Token("quiet", subscribe: [">"]));
        await other.SubscribeAsync(new { topics = new[] { "a" } });

        await first.DisposeAsync(); // its place is given back
        await Eventually.TrueAsync(async () =>
        {
            await using var again = await HubClient.ConnectAsync(hub.Address, accessToken: token);
            try
            {
                await again.SubscribeAsync(new { topics = new[] { "a" } });
                return true;
            }
            catch (InvalidOperationException)
            {
                return false; // closed: the first connection's end was not seen yet
            }
        }, "a connection for 'busy' once one of its two has closed");
    }

    [Fact]
    public async Task PublishPastTheRateLimit_Answers429WithRetryAfter_PerCredential()
    {
        await using var hub = await TestHub.StartAsync(Credentials.RequiredSettings(new Dictionary<string, string?>
        {
            ["Hub:Limits:PublishPermits"] = "1",
            ["Hub:Limits:PublishPeriod"] = "01:00:00",
            ["Hub:Limits:PublishBurst"] = "2",
        }));
        for (var i = 0; i < 2; i++)
        {
            using var ok = await hub.Http.SendAsync(Credentials.Request(HttpMethod.Post, "api/events", Credentials.OrdersKey, TestHub.Json(new { topic = "orders.eu" })));
            Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode);
        }

        using var limited = await hub.Http.SendAsync(Credentials.Request(HttpMethod.Post, "api/events", Credentials.OrdersKey, TestHub.Json(new { topic = "orders.eu" })));
        await AuthTests.AssertProblem(limited, HttpStatusCode.TooManyRequests, "rate");
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {limited.Headers.RetryAfter}");

        using var other = await hub.Http.SendAsync(Credentials.Request(HttpMethod.Post, "api/events", Credentials.AdminKey, TestHub.Json(new { topic = "orders.eu" })));
        Assert.Equal(HttpStatusCode.Accepted, other.StatusCode); // another credential has its own bucket

        using var read = await hub.Http.SendAsync(Credentials.Request(HttpMethod.Get, "api/events?topic=orders.eu", Credentials.AdminKey));
        Assert.Equal(3, System.Text.Json.JsonDocument.Parse(await read.Content.ReadAsStringAsync()).RootElement.GetProperty("events").GetArrayLength());
    }

    [Fact]
    public async Task PublishWithAKeyInModeNone_IsNotRateLimited_TheKeyMeaningNothingThere()
    {
        // Mode None: everyone is one anonymous subject, unlimited; a key sent anyway is not looked at (not authenticated,
        // so not counted), and a key that would be refused in Required mode is not refused either.
        var settings = Credentials.RequiredSettings(new Dictionary<string, string?>
        {
            ["Hub:Auth:Mode"] = "None",
            ["Hub:Limits:PublishPermits"] = "1",
            ["Hub:Limits:PublishPeriod"] = "01:00:00",
            ["Hub:Limits:PublishBurst"] = "1",
        });
        await using var hub = await TestHub.StartAsync(settings);
        foreach (var key in new[] { Credentials.OrdersKey, Credentials.OrdersKey, Credentials.OrdersKey, "not-a-key" })
        {
            using var accepted = await hub.Http.SendAsync(Credentials.Request(HttpMethod.Post, "api/events", key, TestHub.Json(new { topic = "payments.eu" })));
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        using var read = await hub.Http.GetAsync("api/events?topic=payments.eu");
        Assert.Equal(4, JsonDocument.Parse(await read.Content.ReadAsStringAsync()).RootElement.GetProperty("events").GetArrayLength());
    }
}
