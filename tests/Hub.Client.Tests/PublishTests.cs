using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hub.Client.Tests.Infrastructure;

namespace Hub.Client.Tests;

/// <summary><see cref="HubClient.PublishAsync(NewEvent, string?, CancellationToken)"/> over the REST API.</summary>
[Collection(SharedHubCollection.Name)]
public sealed class PublishTests(SharedHub shared)
{
    private RunningHub Hub => shared.Hub;

    [Fact]
    public async Task PublishOne_ThenABatch_AnswersTheirSequences_AndTheLogHoldsThem()
    {
        var topic = SharedHub.UniqueTopic("pub");
        await using var client = new HubClient(Hub.Address);
        var one = await client.PublishAsync(new NewEvent(topic) { Type = "order.created", Id = "o-1", Key = "c-7", Data = new { Total = 42 }, Headers = new Dictionary<string, string> { ["trace"] = "t" } });
        Assert.Equal(topic, one.Topic);
        Assert.Equal("o-1", one.Id);
        Assert.False(one.Duplicate);
        var batch = await client.PublishAsync([new NewEvent(topic) { Data = 1 }, new NewEvent(topic) { Data = 2 }]);
        Assert.Equal([one.Sequence + 1, one.Sequence + 2], batch.Select(p => p.Sequence));

        var page = await Hub.Http.GetFromJsonAsync<JsonElement>($"api/events?topic={topic}&after={one.Sequence - 1}");
        var events = page.GetProperty("events").EnumerateArray().ToArray();
        Assert.Equal([one.Sequence, one.Sequence + 1, one.Sequence + 2], events.Select(e => e.GetProperty("sequence").GetInt64()));
        Assert.Equal(42, events[0].GetProperty("data").GetProperty("total").GetInt32());
        Assert.Equal("c-7", events[0].GetProperty("key").GetString());
        Assert.Equal("t", events[0].GetProperty("headers").GetProperty("trace").GetString());
        Assert.Equal(2, events[2].GetProperty("data").GetInt32());

        var again = await client.PublishAsync(new NewEvent(topic) { Id = "o-1" });
        Assert.Equal(one with { Duplicate = true }, again);
    }

    [Fact]
    public async Task IdempotencyKey_TheSameKeyAgain_AnswersTheFirstAnswer_AndAppendsNothing()
    {
        var topic = SharedHub.UniqueTopic("idem");
        await using var client = new HubClient(Hub.Address);
        var key = Guid.NewGuid().ToString("N");
        var first = await client.PublishAsync([new NewEvent(topic), new NewEvent(topic)], key);
        var second = await client.PublishAsync([new NewEvent(topic), new NewEvent(topic)], key);
        Assert.Equal(first, second);
        var page = await Hub.Http.GetFromJsonAsync<JsonElement>($"api/events?topic={topic}&after={first[0].Sequence - 1}");
        Assert.Equal(first.Select(p => p.Sequence), page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64()));
    }

    [Fact]
    public async Task ARefusedPublish_ThrowsWithTheStatus_AndTheDetailNamingTheField()
    {
        var topic = SharedHub.UniqueTopic("refused");
        await using var client = new HubClient(Hub.Address);
        var single = await Assert.ThrowsAsync<HubPublishException>(() => client.PublishAsync(new NewEvent("bad topic")));
        Assert.Equal(HttpStatusCode.BadRequest, single.Status);
        Assert.StartsWith("topic:", single.Detail, StringComparison.Ordinal);
        var batch = await Assert.ThrowsAsync<HubPublishException>(() => client.PublishAsync([new NewEvent(topic), new NewEvent("a..b")]));
        Assert.StartsWith("[1].topic:", batch.Detail, StringComparison.Ordinal);
        // Nothing of either was appended: the topic's first event is the one published next.
        var next = await client.PublishAsync(new NewEvent(topic));
        var topics = await Hub.Http.GetFromJsonAsync<JsonElement[]>("api/topics");
        var mine = Assert.Single(topics!, t => t.GetProperty("topic").GetString() == topic);
        Assert.Equal(1, mine.GetProperty("count").GetInt64());
        Assert.Equal(next.Sequence, mine.GetProperty("lastSequence").GetInt64());
    }
}
