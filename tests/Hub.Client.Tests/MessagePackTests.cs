using System.Net.Http.Json;
using System.Text.Json;
using Hub.Client.Tests.Infrastructure;
using Hub.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Client.Tests;

/// <summary>The hub's MessagePack protocol carries what its JSON protocol does: the same envelopes, answers and
/// notices, and bad arguments refused naming the field.</summary>
[Collection(SharedHubCollection.Name)]
public sealed class MessagePackTests(SharedHub shared)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(2);

    private RunningHub Hub => shared.Hub;

    [Fact]
    public async Task AMessagePackClient_ReceivesTheSameEnvelopes_AsAJsonClient()
    {
        var topic = SharedHub.UniqueTopic("mp");
        using var timeout = new CancellationTokenSource(Deadline);
        await using var json = new HubClient(Hub.Address, ClientOptions.Fast(HubProtocol.Json));
        await using var messagePack = new HubClient(Hub.Address, ClientOptions.Fast(HubProtocol.MessagePack));
        var events = new[]
        {
            new NewEvent(topic) { Type = "order.created", Id = "o-1", Key = "k-7", Headers = new Dictionary<string, string> { ["trace"] = "t-1", ["é"] = "ü" },
                Data = JsonDocument.Parse("""{"n":1,"f":1.5,"neg":-7,"big":9007199254740993,"huge":18446744073709551615,"tiny":1e-300,"s":"héllo \"q\" \u0001","arr":[1,"x",null,true,false,[]],"o":{"a":{"b":{}}}}""").RootElement },
            new NewEvent(topic),
            new NewEvent(topic) { Data = "a string" },
            new NewEvent(topic) { Data = JsonDocument.Parse("[0.1, 2.5e10, -1e-5, 1E+300]").RootElement },
        };
        var published = await json.PublishAsync(events);

        async Task<List<HubEvent>> ReadAll(HubClient client)
        {
            var got = new List<HubEvent>();
            await foreach (var e in client.ReadAsync(new SubscribeRequest(topic) { After = published[0].Sequence - 1 }, timeout.Token))
            {
                got.Add(e);
                if (got.Count == events.Length)
                {
                    break;
                }
            }

            return got;
        }

        var viaJson = await ReadAll(json);
        var viaMessagePack = await ReadAll(messagePack);
        Assert.Equal(published.Select(p => p.Sequence), viaJson.Select(e => e.Sequence));
        for (var i = 0; i < events.Length; i++)
        {
            var (a, b) = (viaJson[i], viaMessagePack[i]);
            Assert.Equal(a with { Data = default, Headers = null }, b with { Data = default, Headers = null });
            Assert.Equal(a.Headers?.OrderBy(h => h.Key), b.Headers?.OrderBy(h => h.Key));
            Assert.True(a.Data.ValueKind == b.Data.ValueKind, $"event {i}: {a.Data.ValueKind} vs {b.Data.ValueKind}");
            Assert.True(JsonElement.DeepEquals(a.Data, b.Data), $"event {i}: {a.Data} vs {b.Data}");
        }

        Assert.Equal("order.created", viaMessagePack[0].Type);
        Assert.Equal("k-7", viaMessagePack[0].Key);
        Assert.Equal(9007199254740993, viaMessagePack[0].Data.GetProperty("big").GetInt64());
        Assert.Equal(ulong.MaxValue, viaMessagePack[0].Data.GetProperty("huge").GetUInt64());
        Assert.Equal("héllo \"q\" \u0001", viaMessagePack[0].Data.GetProperty("s").GetString());
        Assert.Equal("a string", viaMessagePack[2].Data.GetString());
        Assert.Equal(JsonValueKind.Null, viaMessagePack[1].Data.ValueKind);
    }

    [Fact]
    public async Task TheOfficialClient_OverMessagePack_GetsTheSameFieldNames()
    {
        var topic = SharedHub.UniqueTopic("mpraw");
        using var timeout = new CancellationTokenSource(Deadline);
        await using var connection = new HubConnectionBuilder().WithUrl(new Uri(Hub.Address, "hubs/events")).AddMessagePackProtocol().Build();
        var batches = new List<object?[]>();
        var ended = new TaskCompletionSource<(string, object?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.On<string, object?[]>("events", (id, batch) => { lock (batches) { batches.Add(batch); } });
        connection.On<string, object?>("ended", (id, info) => ended.TrySetResult((id, info)));
        await connection.StartAsync(timeout.Token);

        var answer = await connection.InvokeAsync<Dictionary<object, object?>>("Subscribe",
            new Dictionary<string, object?> { ["id"] = "mine-1", ["topics"] = new[] { topic }, ["after"] = 0 }, timeout.Token);
        Assert.Equal("mine-1", answer["subscriptionId"]);
        Assert.True(answer.ContainsKey("position"));
        var published = await Hub.PublishManyAsync(topic, 2);
        await Eventually.TrueAsync(() => { lock (batches) { return batches.Sum(b => b.Length) == 2; } }, "the two events");
        var envelope = Assert.IsType<Dictionary<object, object?>>(batches[0][0]);
        Assert.Equal(["data", "id", "key", "sequence", "time", "topic", "type"], envelope.Keys.Cast<string>().Where(k => k != "headers").Order());
        Assert.Equal(published[0], Convert.ToInt64(envelope["sequence"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(topic, envelope["topic"]);
        Assert.IsType<string>(envelope["time"]);
        Assert.Equal(0L, Convert.ToInt64(Assert.IsType<Dictionary<object, object?>>(envelope["data"])["n"], System.Globalization.CultureInfo.InvariantCulture));

        await Hub.DeleteSubscriptionAsync("mine-1");
        var (endedId, info) = await ended.Task.WaitAsync(timeout.Token);
        Assert.Equal("mine-1", endedId);
        Assert.Equal("deleted", Assert.IsType<Dictionary<object, object?>>(info)["reason"]);
    }

    [Theory]
    [InlineData("topics", "a", "topics: must be an array")]
    [InlineData("maxDemand", "ten", "maxDemand: must be an integer")]
    [InlineData("after", -1, "after: must be null or a sequence")]
    [InlineData("id", "has space", "id: must be null or 1 to 64 characters")]
    [InlineData("after", double.NaN, "after: must be null or a sequence")]
    public async Task BadArguments_OverMessagePack_AreRefusedNamingTheField(string field, object value, string expected)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        await using var connection = new HubConnectionBuilder().WithUrl(new Uri(Hub.Address, "hubs/events")).AddMessagePackProtocol().Build();
        await connection.StartAsync(timeout.Token);
        var request = new Dictionary<string, object?> { ["topics"] = new[] { "a" }, [field] = value };
        var error = await Assert.ThrowsAsync<HubException>(() => connection.InvokeAsync<object>("Subscribe", request, timeout.Token));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);

        var ask = await Assert.ThrowsAsync<HubException>(() => connection.InvokeAsync("Ask", "nope", 1, timeout.Token));
        Assert.Contains("subscriptionId: no live subscription", ask.Message, StringComparison.Ordinal);
        var answer = await connection.InvokeAsync<Dictionary<object, object?>>("Subscribe", new Dictionary<string, object?> { ["topics"] = new[] { "a" } }, timeout.Token);
        var id = (string)answer["subscriptionId"]!;
        var n = await Assert.ThrowsAsync<HubException>(() => connection.InvokeAsync("Ask", id, "x", timeout.Token));
        Assert.Contains("n: must be an integer", n.Message, StringComparison.Ordinal);
        Assert.Single(await Hub.GetSubscriptionsAsync(), s => s.GetProperty("connectionId").GetString() == connection.ConnectionId);
    }

    [Fact]
    public async Task GapAndEnded_OverMessagePack_ReachTheHandlerForm()
    {
        await using var small = await RunningHub.StartAsync(new Dictionary<string, string> { ["Hub:Log:Retention:MaxEvents"] = "20" });
        await using var client = new HubClient(small.Address, ClientOptions.Fast(HubProtocol.MessagePack));
        var timeline = new List<string>();
        var endedTcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await client.SubscribeAsync(new SubscribeRequest("gap.t") { MaxDemand = 1, MinDemand = 0 },
            async (e, _) =>
            {
                await gate.Task;
                lock (timeline)
                {
                    timeline.Add($"event {e.Sequence}");
                }
            },
            onGap: gap =>
            {
                lock (timeline)
                {
                    timeline.Add($"gap {gap.From}..{gap.To} {gap.Reason}");
                }

                return ValueTask.CompletedTask;
            },
            onEnded: ended =>
            {
                lock (timeline)
                {
                    timeline.Add($"ended {ended.Reason}");
                }

                endedTcs.SetResult();
                return ValueTask.CompletedTask;
            });
        var a = await small.PublishManyAsync("gap.t", 1);
        await Eventually.TrueAsync(() => subscription.Credits == 0, "the first event taken by the blocked handler");
        var rest = await small.PublishManyAsync("gap.t", 50, from: 1);
        await Eventually.TrueAsync(async () =>
        {
            var page = await small.Http.GetFromJsonAsync<JsonElement>("api/events?topic=gap.t&after=0&limit=1");
            return page.GetProperty("events")[0].GetProperty("sequence").GetInt64() == rest[30];
        }, "the retention to drop the older events");
        gate.SetResult();
        await Eventually.TrueAsync(() => { lock (timeline) { return timeline.Count == 22; } }, "the first event, the gap and the 20 retained");
        await small.DeleteSubscriptionAsync(subscription.Id!);
        await endedTcs.Task.WaitAsync(Deadline);
        string[] expected = [$"event {a[0]}", $"gap {rest[0]}..{rest[29]} overflow", .. rest[30..].Select(s => $"event {s}"), "ended deleted"];
        lock (timeline)
        {
            Assert.Equal(expected, timeline);
        }

        await subscription.Completion.WaitAsync(Deadline);
        Assert.True(subscription.IsClosed);
    }
}
