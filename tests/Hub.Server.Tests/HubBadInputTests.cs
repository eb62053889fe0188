using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests;

/// <summary>A bad hub invocation fails with a message naming the field, and creates or changes nothing.</summary>
public sealed class HubBadInputTests : IAsyncLifetime
{
    private TestHub _hub = null!;
    private HubClient _client = null!;

    public async Task InitializeAsync()
    {
        _hub = await TestHub.StartAsync();
        _client = await _hub.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _hub.DisposeAsync();
    }

    [Theory]
    [InlineData("""{"topics":["a"],"maxDemand":0}""", "maxDemand")]
    [InlineData("""{"topics":["a"],"maxDemand":-5}""", "maxDemand")]
    [InlineData("""{"topics":["a"],"maxDemand":"ten"}""", "maxDemand")]
    [InlineData("""{"topics":["a"],"maxDemand":1000,"minDemand":2000}""", "minDemand")]
    [InlineData("""{"topics":["a"],"maxDemand":10,"minDemand":10}""", "minDemand")]
    [InlineData("""{"topics":["a"],"minDemand":-1}""", "minDemand")]
    [InlineData("""{"topics":["a..b"]}""", "topics[0]")]
    [InlineData("""{"topics":["a",">.b"]}""", "topics[1]")]
    [InlineData("""{"topics":["a.b*"]}""", "topics[0]")]
    [InlineData("""{"topics":[]}""", "topics")]
    [InlineData("""{"topics":"a"}""", "topics")]
    [InlineData("""{}""", "topics")]
    [InlineData("""{"topics":["a"],"types":"x"}""", "types")]
    [InlineData("""{"topics":["a"],"after":-1}""", "after")]
    [InlineData("""{"topics":["a"],"after":"1"}""", "after")]
    [InlineData("""{"topics":["a"],"demand":"sometimes"}""", "demand")]
    [InlineData("""{"topics":["a"],"overflow":"explode"}""", "overflow")]
    [InlineData("""{"topics":["a"],"dispatch":"demand"}""", "dispatch")]
    [InlineData("""{"topics":["a"],"dispatch":"partition"}""", "dispatch")]
    [InlineData("""{"topics":["a"],"dispatch":"roundRobin","group":"g"}""", "dispatch")]
    [InlineData("""{"topics":["a"],"group":"g","dispatch":"broadcast"}""", "dispatch")]
    [InlineData("""{"topics":["a"],"group":""}""", "group")]
    [InlineData("""{"topics":["a"],"group":"has space"}""", "group")]
    [InlineData("""{"topics":["a"],"group":7}""", "group")]
    [InlineData("""[1,2]""", "request")]
    public async Task Subscribe_WithABadRequest_FailsNamingTheField_AndCreatesNothing(string request, string field)
    {
        var error = await Assert.ThrowsAsync<HubInvocationException>(() => _client.InvokeAsync("Subscribe", System.Text.Json.JsonDocument.Parse(request).RootElement));
        Assert.Contains($"{field}:", error.Message, StringComparison.Ordinal);
        Assert.Empty(await _hub.GetSubscriptionsAsync());
    }

    [Fact]
    public async Task Ask_UnknownSubscription_FailsNamingTheField()
    {
        var error = await Assert.ThrowsAsync<HubInvocationException>(() => _client.InvokeAsync("Ask", "sub_nope", 5));
        Assert.Contains("subscriptionId:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ask_AnotherConnectionsSubscription_FailsAsUnknown()
    {
        await using var other = await _hub.ConnectAsync();
        var theirs = await other.SubscribeAsync(new SubscribeArgs(["a"], Demand: "manual"));
        var error = await Assert.ThrowsAsync<HubInvocationException>(() => _client.InvokeAsync("Ask", theirs.Id, 5));
        Assert.Contains("subscriptionId:", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await _hub.GetSubscriptionAsync(theirs.Id)).GetProperty("credits").GetInt64());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public async Task Ask_WithNNotPositive_FailsNamingN_AndGrantsNothing(long n)
    {
        var log = await _client.SubscribeAsync(new SubscribeArgs(["a"], Demand: "manual"));
        var error = await Assert.ThrowsAsync<HubInvocationException>(() => _client.InvokeAsync("Ask", log.Id, n));
        Assert.Contains("n:", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await _hub.GetSubscriptionAsync(log.Id)).GetProperty("credits").GetInt64());
    }

    [Fact]
    public async Task Ask_WithNNotANumber_FailsNamingN()
    {
        var log = await _client.SubscribeAsync(new SubscribeArgs(["a"], Demand: "manual"));
        var error = await Assert.ThrowsAsync<HubInvocationException>(() => _client.InvokeAsync("Ask", log.Id, "lots"));
        Assert.Contains("n:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unsubscribe_UnknownSubscription_FailsNamingTheField()
    {
        var error = await Assert.ThrowsAsync<HubInvocationException>(() => _client.InvokeAsync("Unsubscribe", "sub_nope"));
        Assert.Contains("subscriptionId:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AfterBadInvocations_TheConnectionStillWorks()
    {
        await Assert.ThrowsAsync<HubInvocationException>(() => _client.InvokeAsync("Subscribe", System.Text.Json.JsonDocument.Parse("{}").RootElement));
        var log = await _client.SubscribeAsync(new SubscribeArgs(["a"]));
        await _hub.PublishAsync(new { topic = "a" });
        await log.WaitForCountAsync(1);
    }
}
