using System.Net;
using System.Net.WebSockets;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests.Security;

/// <summary><c>Hub:Auth:Issuer</c> and <c>Hub:Auth:Audience</c>: once configured, a token must carry exactly that
/// <c>iss</c> and <c>aud</c>, over REST and at the hub's WebSocket upgrade; a token without them is refused too.</summary>
public sealed class TokenIssuerAudienceTests : IAsyncLifetime
{
    private const string Issuer = "https://issuer.hub.test";
    private const string Audience = "hub-tests";
    private TestHub _hub = null!;

    public async Task InitializeAsync() => _hub = await TestHub.StartAsync(Credentials.RequiredSettings(new Dictionary<string, string?>
    {
        ["Hub:Auth:Issuer"] = Issuer,
        ["Hub:Auth:Audience"] = Audience,
    }));

    public async Task DisposeAsync() => await _hub.DisposeAsync();

    private static string Publisher(string? issuer, string? audience) =>
        Credentials.Token("issuer-test", subscribe: ["orders.>"], publish: ["orders.>"], issuer: issuer, audience: audience);

    private async Task<HttpResponseMessage> PublishAsync(string token, string topic) =>
        await _hub.Http.SendAsync(Credentials.Request(HttpMethod.Post, "api/events", token, TestHub.Json(new { topic, data = 1 })));

    [Fact]
    public async Task TokenWithTheConfiguredIssuerAndAudience_Publishes_AndConnectsToTheHub()
    {
        var token = Publisher(Issuer, Audience);
        using var accepted = await PublishAsync(token, "orders.eu");
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);

        await using var client = await HubClient.ConnectAsync(_hub.Address, accessToken: token);
        var subscription = await client.SubscribeAsync(new SubscribeArgs(["orders.>"], After: 0));
        await subscription.WaitForCountAsync(1);
        Assert.Equal("orders.eu", subscription.Events[0].GetProperty("topic").GetString());
    }

    [Theory]
    [InlineData("https://other-issuer.test", Audience)]
    [InlineData(null, Audience)]
    [InlineData(Issuer, "another-audience")]
    [InlineData(Issuer, null)]
    public async Task TokenWithAnotherOrNoIssuerOrAudience_Is401_AtRestAndAtTheHub_AndAppendsNothing(string? issuer, string? audience)
    {
        var token = Publisher(issuer, audience);

        using var refused = await PublishAsync(token, "orders.eu");
        await AuthTests.AssertProblem(refused, HttpStatusCode.Unauthorized, "credentials");
        await Assert.ThrowsAsync<WebSocketException>(() => HubClient.ConnectAsync(_hub.Address, accessToken: token));

        // Only the admin key (an API key: no issuer or audience applies) can read the head: nothing was appended.
        Assert.Equal(0, await LoggedEventCountAsync());
    }

    private async Task<long> LoggedEventCountAsync()
    {
        using var response = await _hub.Http.SendAsync(Credentials.Request(HttpMethod.Get, "api/events?topic=>&after=0&limit=1", Credentials.AdminKey));
        response.EnsureSuccessStatusCode();
        var page = await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<System.Text.Json.JsonElement>(response.Content);
        return page.GetProperty("events").GetArrayLength(); // the number of events in the whole log
    }
}
