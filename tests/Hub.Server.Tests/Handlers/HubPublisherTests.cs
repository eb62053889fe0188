using System.Net;
using System.Text.Json;
using Hub.Log;
using Hub.Server.Handlers;
using Hub.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Server.Tests.Handlers;

/// <summary><see cref="IHubPublisher"/>: the REST path's validation, dedup and delivery, in-process.</summary>
public sealed class HubPublisherTests
{
    [Fact]
    public async Task BadInput_ThrowsNamingTheField_AsRestAnswers_AndAppendsNothing()
    {
        await using var hub = await TestHub.StartAsync(new Dictionary<string, string?> { ["Hub:Log:Kind"] = "Memory" });
        var publisher = hub.Services.GetRequiredService<IHubPublisher>();
        var log = hub.Services.GetRequiredService<IEventLog>();
        await hub.PublishManyAsync("orders.eu", 2);
        var head = log.Head;

        var one = await Assert.ThrowsAsync<HubPublishException>(() => publisher.PublishAsync(new NewEvent("orders..eu", new { n = 1 })));
        Assert.Equal(["topic"], one.Errors.Keys);
        Assert.Contains("topic:", one.Message, StringComparison.Ordinal);

        // The same errors as POST /api/events gives the same event: one parser.
        using var response = await hub.Http.PostAsync("api/events", TestHub.Json(new { topic = "orders..eu", data = new { n = 1 } }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.Equal(problem.GetProperty("topic").EnumerateArray().Select(e => e.GetString()), one.Errors["topic"]);

        var batch = await Assert.ThrowsAsync<HubPublishException>(() => publisher.PublishAsync([new NewEvent("orders.eu"), new NewEvent("orders.eu") { Key = "" }]));
        Assert.Equal(["[1].key"], batch.Errors.Keys);

        var key = await Assert.ThrowsAsync<HubPublishException>(() => publisher.PublishAsync([new NewEvent("orders.eu")], idempotencyKey: ""));
        Assert.Equal(["idempotencyKey"], key.Errors.Keys);

        Assert.Equal(head, log.Head);
    }

    [Fact]
    public async Task GoodInput_IsAppended_Deduplicated_AndDeliveredToSubscribers()
    {
        await using var hub = await TestHub.StartAsync(new Dictionary<string, string?> { ["Hub:Log:Kind"] = "Memory" });
        var publisher = hub.Services.GetRequiredService<IHubPublisher>();
        await using var client = await hub.ConnectAsync();
        var subscriber = await client.SubscribeAsync(new SubscribeArgs(["orders.>"]));

        var order = new NewEvent("orders.eu", new { OrderId = 7, Total = 12.5 })
        {
            Type = "order.created",
            Id = "o-7",
            Key = "customer-1",
            Headers = new Dictionary<string, string> { ["source"] = "test" },
        };
        var published = await publisher.PublishAsync(order);
        Assert.False(published.Duplicate);
        await subscriber.WaitForCountAsync(1);

        var delivered = subscriber.Events.Single();
        Assert.Equal(published.Sequence, delivered.GetProperty("sequence").GetInt64());
        Assert.Equal("orders.eu", delivered.GetProperty("topic").GetString());
        Assert.Equal("order.created", delivered.GetProperty("type").GetString());
        Assert.Equal("o-7", delivered.GetProperty("id").GetString());
        Assert.Equal("customer-1", delivered.GetProperty("key").GetString());
        Assert.Equal(7, delivered.GetProperty("data").GetProperty("orderId").GetInt32());
        Assert.Equal(12.5, delivered.GetProperty("data").GetProperty("total").GetDouble());
        Assert.Equal("test", delivered.GetProperty("headers").GetProperty("source").GetString());

        // The same (topic, id) again: the first sequence, nothing appended; a batch with a key, once.
        var again = await publisher.PublishAsync(order);
        Assert.True(again.Duplicate);
        Assert.Equal(published.Sequence, again.Sequence);
        var batch = await publisher.PublishAsync([new NewEvent("orders.us", 1), new NewEvent("orders.us", 2)], idempotencyKey: "batch-1");
        var repeat = await publisher.PublishAsync([new NewEvent("orders.us", 1), new NewEvent("orders.us", 2)], idempotencyKey: "batch-1");
        Assert.Equal(batch.Select(e => e.Sequence), repeat.Select(e => e.Sequence));
        await subscriber.WaitForCountAsync(3);
        Assert.Equal([published.Sequence, .. batch.Select(e => e.Sequence)], subscriber.Sequences);
        Assert.Equal(batch[^1].Sequence, hub.Services.GetRequiredService<IEventLog>().Head);
    }
}
