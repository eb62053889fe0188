using System.Net;
using System.Text.Json;
using Hub.Clients.Generated;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Clients.Tests;

/// <summary>
/// The C# client NSwag generates at build from the hub's OpenAPI document (<see cref="HubApiClient"/>), used against
/// a real hub on Kestrel at 127.0.0.1: what the document promises is what a generated client gets.
/// </summary>
public sealed class HubApiClientTests : IAsyncLifetime
{
    private TestHub _hub = null!;
    private HubApiClient _client = null!;

    public async Task InitializeAsync()
    {
        _hub = await TestHub.StartAsync();
        _client = new HubApiClient(_hub.Http);
    }

    public async Task DisposeAsync() => await _hub.DisposeAsync();

    [Fact]
    public async Task PublishEvents_Batch_IsInTheHistory_AsReadEventsGivesIt()
    {
        var published = await _client.PublishEventsAsync(
        [
            new EventInput { Topic = "orders.eu", Type = "order.created", Id = "o-1", Key = "customer-7", Data = new { total = 42 }, Headers = new Dictionary<string, string> { ["trace"] = "t-1" } },
            new EventInput { Topic = "orders.us", Data = new[] { 1, 2 } },
            new EventInput { Topic = "payments.card" },
        ]);

        Assert.Equal(["orders.eu", "orders.us", "payments.card"], published.Events.Select(e => e.Topic));
        Assert.Equal(["o-1", null, null], published.Events.Select(e => e.Id));
        Assert.All(published.Events, e => Assert.False(e.Duplicate));
        var sequences = published.Events.Select(e => e.Sequence).ToArray();
        Assert.True(sequences[0] < sequences[1] && sequences[1] < sequences[2], string.Join(", ", sequences));

        var page = await _client.ReadEventsAsync(topic: "orders.>", after: sequences[0] - 1, limit: 10);
        Assert.Equal(sequences[..2], page.Events.Select(e => e.Sequence));
        var eu = page.Events.First();
        Assert.Equal("orders.eu", eu.Topic);
        Assert.Equal("order.created", eu.Type);
        Assert.Equal("o-1", eu.Id);
        Assert.Equal("customer-7", eu.Key);
        Assert.Equal(42, Assert.IsType<JsonElement>(eu.Data).GetProperty("total").GetInt32());
        Assert.Equal("t-1", eu.Headers["trace"]);
        Assert.InRange(eu.Time, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal("[1,2]", Assert.IsType<JsonElement>(page.Events.Last().Data).GetRawText());
        Assert.True(page.Next >= sequences[1], $"next {page.Next}");

        var firstTwo = await _client.ReadEventsAsync(after: sequences[0] - 1, limit: 2);
        var rest = await _client.ReadEventsAsync(after: firstTwo.Next);
        Assert.Equal([sequences[2]], rest.Events.Select(e => e.Sequence));
    }

    [Fact]
    public async Task PublishEvents_SameIdempotencyKeyAgain_AnswersTheFirstAnswer()
    {
        var first = await _client.PublishEventsAsync([new EventInput { Topic = "orders.eu" }, new EventInput { Topic = "orders.us" }], idempotency_Key: "batch-1");
        var again = await _client.PublishEventsAsync([new EventInput { Topic = "orders.eu" }, new EventInput { Topic = "orders.us" }], idempotency_Key: "batch-1");
        Assert.Equal(first.Events.Select(e => e.Sequence), again.Events.Select(e => e.Sequence));
        Assert.Equal(first.Events.Max(e => e.Sequence), await _hub.GetHeadAsync());
    }

    [Fact]
    public async Task ListTopics_CountsEachTopic_WithItsLastSequence()
    {
        var published = await _client.PublishEventsAsync([new EventInput { Topic = "topics.a" }, new EventInput { Topic = "topics.a" }, new EventInput { Topic = "topics.b" }]);
        var topics = (await _client.ListTopicsAsync()).ToDictionary(t => t.Topic);
        Assert.Equal(2, topics["topics.a"].Count);
        Assert.Equal(published.Events.ElementAt(1).Sequence, topics["topics.a"].LastSequence);
        Assert.Equal(1, topics["topics.b"].Count);
        Assert.Equal(published.Events.ElementAt(2).Sequence, topics["topics.b"].LastSequence);
    }

    [Fact]
    public async Task ListSubscriptions_ShowsTheDemandWindow_AndDeleteSubscription_EndsIt()
    {
        await using var connection = await _hub.ConnectAsync();
        var subscription = await connection.SubscribeAsync(new SubscribeArgs(["listed.*"], MaxDemand: 10, MinDemand: 4, Demand: "manual"));

        var mine = Assert.Single(await _client.ListSubscriptionsAsync(), s => s.Id == subscription.Id);
        Assert.False(string.IsNullOrEmpty(mine.ConnectionId));
        Assert.Equal(["listed.*"], mine.Topics);
        Assert.Equal(10, mine.MaxDemand);
        Assert.Equal(4, mine.MinDemand);
        Assert.Equal("manual", mine.Demand);
        Assert.Equal(0, mine.Credits);
        Assert.Equal(0, mine.Delivered);

        await _client.DeleteSubscriptionAsync(subscription.Id);
        await subscription.WaitForEndedAsync();
        Assert.Equal("deleted", subscription.EndedReason);
        Assert.DoesNotContain(await _client.ListSubscriptionsAsync(), s => s.Id == subscription.Id);

        var gone = await Assert.ThrowsAsync<ApiException<ProblemDetails>>(() => _client.DeleteSubscriptionAsync(subscription.Id));
        Assert.Equal((int)HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(404, gone.Result.Status);
        Assert.StartsWith("id: ", gone.Result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PublishEvents_BadBatch_ThrowsTheValidationProblem_NamingTheField_AndAppendsNothing()
    {
        var head = await _hub.GetHeadAsync();
        var rejected = await Assert.ThrowsAsync<ApiException<HttpValidationProblemDetails>>(
            () => _client.PublishEventsAsync([new EventInput { Topic = "bad.ok" }, new EventInput { Topic = "bad..topic" }]));
        Assert.Equal((int)HttpStatusCode.BadRequest, rejected.StatusCode);
        Assert.Equal(["[1].topic"], rejected.Result.Errors.Keys);
        Assert.Equal(head, await _hub.GetHeadAsync());
    }

    [Fact]
    public async Task ReadEvents_BadAfter_ThrowsTheValidationProblem()
    {
        var rejected = await Assert.ThrowsAsync<ApiException<HttpValidationProblemDetails>>(() => _client.ReadEventsAsync(after: -1));
        Assert.Equal(["after"], rejected.Result.Errors.Keys);
    }
}
