extern alias client;

using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using client::Hub.Client;
using Hub.Server.Tests.Infrastructure;
using DotNetClient = client::Hub.Client.HubClient;
using HubClient = Hub.Server.Tests.Infrastructure.HubClient;

namespace Hub.Server.Tests.Security;

/// <summary>A hub with <c>Hub:Auth:Mode</c> Required: API keys and tokens, per-topic grants, the admin grant, 401 vs 403.</summary>
public sealed class AuthTests : IAsyncLifetime
{
    private TestHub _hub = null!;

    public async Task InitializeAsync() => _hub = await TestHub.StartAsync(Credentials.RequiredSettings());

    public async Task DisposeAsync() => await _hub.DisposeAsync();

    [Fact]
    public async Task Publish_WithoutCredentials_Answers401ProblemNamingCredentials_AndAppendsNothing()
    {
        using var response = await _hub.Http.PostAsync("api/events", TestHub.Json(new { topic = "orders.eu" }));
        await AssertProblem(response, HttpStatusCode.Unauthorized, "credentials");
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(0, await HeadAsync());
    }

    [Theory]
    [InlineData("bearer")]
    [InlineData("header")]
    public async Task Publish_WithAnApiKey_ToAGrantedTopic_IsAccepted_AndToAnotherIs403NamingTheTopic(string how)
    {
        using var ok = await _hub.Http.SendAsync(WithKey(how, Credentials.OrdersKey, HttpMethod.Post, "api/events", TestHub.Json(new { topic = "orders.eu", data = 1 })));
        Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode);

        using var refused = await _hub.Http.SendAsync(WithKey(how, Credentials.OrdersKey, HttpMethod.Post, "api/events",
            TestHub.Json(new object[] { new { topic = "orders.us" }, new { topic = "payments.card" } })));
        var problem = await AssertProblem(refused, HttpStatusCode.Forbidden, "[1].topic");
        Assert.Contains("payments.card", problem.GetProperty("detail").GetString());
        Assert.Equal(1, await HeadAsync()); // the refused batch appended nothing, not even its allowed event
    }

    [Fact]
    public async Task Publish_WithAnUnknownKey_Answers401()
    {
        using var response = await _hub.Http.SendAsync(WithKey("header", "not-a-key", HttpMethod.Post, "api/events", TestHub.Json(new { topic = "orders.eu" })));
        await AssertProblem(response, HttpStatusCode.Unauthorized, "credentials");
    }

    [Fact]
    public async Task ReadEvents_NeedsASubscribeGrantCoveringThePattern_ABroaderPatternIs403()
    {
        await PublishAsAdminAsync(new { topic = "orders.eu", data = 1 }, new { topic = "payments.card", data = 2 });
        var token = Credentials.Token("reader", subscribe: ["orders.>"]);

        using var ok = await _hub.Http.SendAsync(Credentials.Request(HttpMethod.Get, "api/events?topic=orders.*&after=0", token));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var page = await ok.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["orders.eu"], page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("topic").GetString()));

        foreach (var broader in new[] { ">", "*.eu", "payments.card" })
        {
            using var refused = await _hub.Http.SendAsync(Credentials.Request(HttpMethod.Get, $"api/events?topic={broader}", token));
            await AssertProblem(refused, HttpStatusCode.Forbidden, "topic");
        }

        using var anonymous = await _hub.Http.GetAsync("api/events?topic=orders.*");
        await AssertProblem(anonymous, HttpStatusCode.Unauthorized, "credentials");
    }

    [Fact]
    public async Task ListTopics_ShowsOnlyTopicsTheCredentialMayUse()
    {
        await PublishAsAdminAsync(new { topic = "orders.eu" }, new { topic = "payments.card" });
        using var response = await _hub.Http.SendAsync(Credentials.Request(HttpMethod.Get, "api/topics", Credentials.Token("t", subscribe: ["orders.*"])));
        var topics = await response.Content.ReadFromJsonAsync<JsonElement[]>();
        Assert.Equal(["orders.eu"], topics!.Select(t => t.GetProperty("topic").GetString()));
    }

    [Theory]
    [InlineData("GET", "api/subscriptions")]
    [InlineData("DELETE", "api/subscriptions/nope")]
    public async Task AdminEndpoints_Answer401WithoutCredentials_403WithoutTheAdminGrant_AndServeTheAdmin(string method, string path)
    {
        using var anonymous = await _hub.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        await AssertProblem(anonymous, HttpStatusCode.Unauthorized, "credentials");

        using var user = await _hub.Http.SendAsync(Credentials.Request(new HttpMethod(method), path, Credentials.Token("u", subscribe: [">"], publish: [">"])));
        await AssertProblem(user, HttpStatusCode.Forbidden, "credentials");

        using var publisher = await _hub.Http.SendAsync(Credentials.Request(new HttpMethod(method), path, Credentials.OrdersKey));
        await AssertProblem(publisher, HttpStatusCode.Forbidden, "credentials");

        using var admin = await _hub.Http.SendAsync(Credentials.Request(new HttpMethod(method), path, Credentials.Token("root", admin: true)));
        Assert.Equal(method == "DELETE" ? HttpStatusCode.NotFound : HttpStatusCode.OK, admin.StatusCode);
    }

    [Fact]
    public async Task Tokens_ThatExpired_AreTamperedWith_Unsigned_OrSignedWithAnotherKey_Answer401()
    {
        var expired = Credentials.Token("late", publish: [">"], expires: DateTime.UtcNow.AddMinutes(-5));
        using (var response = await _hub.Http.SendAsync(Credentials.Request(HttpMethod.Post, "api/events", expired, TestHub.Json(new { topic = "a" }))))
        {
            var problem = await AssertProblem(response, HttpStatusCode.Unauthorized, "credentials");
            Assert.Contains("expired", problem.GetProperty("detail").GetString());
        }

        var good = Credentials.Token("who", publish: ["orders.>"]);
        var parts = good.Split('.');
        var tampered = parts[0] + "." + Credentials.Base64Url("{\"sub\":\"who\",\"hub:pub\":[\">\"],\"exp\":4102444800}") + "." + parts[2];
        var unsigned = Credentials.UnsignedToken("{\"sub\":\"who\",\"hub:pub\":[\">\"],\"exp\":4102444800}");
        var otherKey = Credentials.Token("who", publish: [">"], signingKey: "another-signing-key-0123456789-abcdefghijklmnop");
        foreach (var token in new[] { tampered, unsigned, otherKey })
        {
            using var response = await _hub.Http.SendAsync(Credentials.Request(HttpMethod.Post, "api/events", token, TestHub.Json(new { topic = "a" })));
            await AssertProblem(response, HttpStatusCode.Unauthorized, "credentials");
        }

        Assert.Equal(0, await HeadAsync());
    }

    [Fact]
    public async Task AccessTokenInTheQueryString_IsAcceptedOnTheHubOnly()
    {
        var token = Credentials.Token("q", subscribe: [">"], publish: [">"], admin: true);
        using var rest = await _hub.Http.GetAsync($"api/subscriptions?access_token={token}");
        Assert.Equal(HttpStatusCode.Unauthorized, rest.StatusCode);

        await using var client = await HubClient.ConnectAsync(_hub.Address, accessToken: token);
        var subscription = await client.SubscribeAsync(new { topics = new[] { "orders.>" } });
        Assert.False(string.IsNullOrEmpty(subscription.Id));
    }

    [Fact]
    public async Task Hub_RefusesAConnectionWithoutValidCredentials()
    {
        await Assert.ThrowsAsync<WebSocketException>(() => HubClient.ConnectAsync(_hub.Address));
        await Assert.ThrowsAsync<WebSocketException>(() => HubClient.ConnectAsync(_hub.Address, accessToken: Credentials.Token("x", subscribe: [">"], expires: DateTime.UtcNow.AddMinutes(-5))));
        await Assert.ThrowsAsync<WebSocketException>(() => HubClient.ConnectAsync(_hub.Address, headers: new Dictionary<string, string> { ["X-Api-Key"] = "wrong" }));
    }

    [Fact]
    public async Task Subscribe_IsAllowedForCoveredPatterns_ABroaderOneFailsNamingTheTopic_AndTheCoveredStreamDelivers()
    {
        await using var client = await HubClient.ConnectAsync(_hub.Address, accessToken: Credentials.Token("s", subscribe: ["orders.eu.>", "payments.*"]));
        foreach (var (topics, field) in new[] { (new[] { "orders.>" }, "topics[0]"), (new[] { "payments.card", "orders.*" }, "topics[1]"), (new[] { ">" }, "topics[0]") })
        {
            var error = await Assert.ThrowsAsync<HubInvocationException>(() => client.SubscribeAsync(new { topics }));
            Assert.Contains(field + ":", error.Message);
            Assert.Contains(topics[^1], error.Message);
        }

        Assert.Empty(await AdminGetAsync("api/subscriptions")); // the refused requests created nothing

        var subscription = await client.SubscribeAsync(new { topics = new[] { "orders.eu.>", "payments.card" } });
        await PublishAsAdminAsync(new { topic = "orders.eu.created" }, new { topic = "orders.us.created" }, new { topic = "payments.card" });
        await subscription.WaitForCountAsync(2);
        Assert.Equal(["orders.eu.created", "payments.card"], subscription.Events.Select(e => e.GetProperty("topic").GetString()));
    }

    [Fact]
    public async Task ApiKeyHeader_IsAcceptedOnTheHub_WithTheKeysSubscribeGrants()
    {
        await using var publisher = await HubClient.ConnectAsync(_hub.Address, headers: new Dictionary<string, string> { ["X-Api-Key"] = Credentials.OrdersKey });
        var error = await Assert.ThrowsAsync<HubInvocationException>(() => publisher.SubscribeAsync(new { topics = new[] { "orders.eu" } }));
        Assert.Contains("topics[0]:", error.Message); // the orders key may publish, not subscribe
    }

    [Fact]
    public async Task DotNetClient_WithATokenProvider_SubscribesAndPublishesWithinItsGrants_AndWithAnApiKeyHeader()
    {
        var asked = 0;
        var token = Credentials.Token("dotnet", subscribe: ["orders.>"], publish: ["orders.>"]);
        await using var client = new DotNetClient(_hub.Address, new HubClientOptions
        {
            AccessTokenProvider = () =>
            {
                Interlocked.Increment(ref asked);
                return Task.FromResult<string?>(token);
            },
        });
        await using var subscription = await ClientSubscription.OpenAsync(client, new SubscribeRequest("orders.>"));
        var askedToConnect = Volatile.Read(ref asked);
        Assert.True(askedToConnect >= 1, "the connection asked the provider");
        var published = await client.PublishAsync(new NewEvent("orders.eu") { Data = new { n = 1 } });
        Assert.True(Volatile.Read(ref asked) > askedToConnect, "the publish asked the provider");
        await subscription.WaitForCountAsync(1);
        Assert.Equal([published.Sequence], subscription.Sequences);
        Assert.Equal(1, subscription.Events[0].Data.GetProperty("n").GetInt32());

        // Beyond its grants: the subscribe and the publish are refused naming the field, and change nothing.
        var subscribe = await Assert.ThrowsAsync<Microsoft.AspNetCore.SignalR.HubException>(() => client.OpenAsync(new SubscribeRequest("payments.*")));
        Assert.Contains("topics[0]:", subscribe.Message, StringComparison.Ordinal);
        var publish = await Assert.ThrowsAsync<HubPublishException>(() => client.PublishAsync(new NewEvent("payments.card")));
        Assert.Equal(HttpStatusCode.Forbidden, publish.Status);
        Assert.Contains("payments.card", publish.Detail, StringComparison.Ordinal);
        Assert.Equal([subscription.Subscription], client.Subscriptions);

        // Without credentials the first connection fails, and says so.
        await using var anonymous = new DotNetClient(_hub.Address);
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => anonymous.StartAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        // An API key as a header goes on the connection and on every REST call.
        await using var admin = new DotNetClient(_hub.Address, new HubClientOptions { Headers = { ["X-Api-Key"] = Credentials.AdminKey } });
        await using var payments = await ClientSubscription.OpenAsync(admin, new SubscribeRequest("payments.*"));
        var card = await admin.PublishAsync(new NewEvent("payments.card"));
        await payments.WaitForCountAsync(1);
        Assert.Equal([card.Sequence], payments.Sequences);
        Assert.Equal([published.Sequence], subscription.Sequences);
    }

    [Fact]
    public async Task DashboardFeed_NeedsTheAdminGrant()
    {
        await Assert.ThrowsAsync<WebSocketException>(() => HubClient.ConnectAsync(_hub.Address, "hubs/dashboard", Credentials.Token("u", subscribe: [">"])));
        await using var admin = await HubClient.ConnectAsync(_hub.Address, "hubs/dashboard", Credentials.Token("root", admin: true));
        var stream = await admin.StreamAsync("Watch");
        Assert.True(await stream.WaitToReadAsync());
    }

    [Fact]
    public async Task HubConnection_IsClosedWhenItsTokenExpires()
    {
        await using var hub = await TestHub.StartAsync(Credentials.RequiredSettings(new Dictionary<string, string?> { ["Hub:Auth:ClockSkew"] = "00:00:00" }));
        await using var client = await HubClient.ConnectAsync(hub.Address, accessToken: Credentials.Token("brief", subscribe: [">"], expires: DateTime.UtcNow.AddSeconds(3)));
        await client.SubscribeAsync(new { topics = new[] { "a" } });
        await client.Closed.WaitAsync(TimeSpan.FromSeconds(60));
        await Eventually.TrueAsync(async () =>
        {
            using var response = await hub.Http.SendAsync(Credentials.Request(HttpMethod.Get, "api/subscriptions", Credentials.AdminKey));
            return await response.Content.ReadAsStringAsync() == "[]";
        }, "the expired connection's subscription removed");
    }

    [Fact]
    public async Task Info_NeedsNoCredentials_AndSaysAuthIsRequired()
    {
        var info = await _hub.Http.GetFromJsonAsync<JsonElement>("api/info");
        Assert.Equal("Required", info.GetProperty("authMode").GetString());
    }

    internal static async Task<JsonElement> AssertProblem(HttpResponseMessage response, HttpStatusCode status, string field)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement.Clone();
        Assert.StartsWith(field + ":", problem.GetProperty("detail").GetString());
        return problem;
    }

    private static HttpRequestMessage WithKey(string how, string key, HttpMethod method, string path, HttpContent content)
    {
        if (how == "bearer")
        {
            return Credentials.Request(method, path, key, content);
        }

        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Add("X-Api-Key", key);
        return request;
    }

    private async Task PublishAsAdminAsync(params object[] events)
    {
        using var response = await _hub.Http.SendAsync(Credentials.Request(HttpMethod.Post, "api/events", Credentials.AdminKey, TestHub.Json(events)));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private async Task<JsonElement[]> AdminGetAsync(string path)
    {
        using var response = await _hub.Http.SendAsync(Credentials.Request(HttpMethod.Get, path, Credentials.AdminKey));
        return (await response.Content.ReadFromJsonAsync<JsonElement[]>())!;
    }

    private async Task<long> HeadAsync()
    {
        var topics = await AdminGetAsync("api/topics");
        return topics.Length == 0 ? 0 : topics.Max(t => t.GetProperty("lastSequence").GetInt64());
    }
}
