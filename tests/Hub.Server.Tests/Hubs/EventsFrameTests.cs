using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hub.Log;
using Hub.Protocol;
using Hub.Server.Hubs;
using Hub.Server.Subscriptions;
using Hub.Server.Tests.Infrastructure;
using MessagePack;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Server.Tests.Hubs;

/// <summary>
/// <c>events</c> messages written in one piece (<see cref="EventsFrameProtocol"/>): the same bytes as SignalR's JSON and
/// MessagePack protocols write, in one segment of a Kestrel pipe where those write several, so one WebSocket frame;
/// every other message is the wrapped protocol's; the hub resolves the wrappers for both protocol names.
/// </summary>
public sealed class EventsFrameTests
{
    /// <summary>The protocols as the hub registers them (AddHub's services, so the wrapped ones have the hub's options).</summary>
    private static readonly IHubProtocolResolver HubProtocols = new ServiceCollection()
        .AddLogging()
        .AddHub(new ConfigurationBuilder().Build()).Services
        .BuildServiceProvider()
        .GetRequiredService<IHubProtocolResolver>();

    private const string HubId = "sub_0f1e2d3c4b5a69788796"; // the form SubscriptionRegistry gives ids: "sub_" and 20 hex digits
    private const string ShortClientId = "o-1";
    private const string LongClientId = "client_chosen.id:with-every-allowed-character_0123456789.ABCDEFG"; // 64: MessagePack's str 8

    public static TheoryData<string, int, string> Batches()
    {
        var data = new TheoryData<string, int, string>();
        foreach (var protocol in new[] { "json", "messagepack" })
        {
            foreach (var count in new[] { 1, 3, 300 })
            {
                foreach (var id in new[] { HubId, ShortClientId, LongClientId })
                {
                    data.Add(protocol, count, id);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Batches))]
    public void AnEventsMessage_IsWrittenWithTheWrappedProtocolsBytes(string name, int count, string subscriptionId)
    {
        Assert.Equal(64, LongClientId.Length);
        Assert.True(SubscribeRequest.IsValidId(LongClientId) && SubscribeRequest.IsValidId(HubId) && SubscribeRequest.IsValidId(ShortClientId));
        var protocol = Wrapper(name);
        var message = EventsMessage(subscriptionId, Entries(count));

        var expected = Written(protocol.Inner, message);
        var written = Written(protocol, message);

        Assert.Equal(expected, written);
        Assert.Equal(expected, protocol.GetMessageBytes(message).ToArray());
        Assert.Equal(expected, protocol.Inner.GetMessageBytes(message).ToArray());
        if (count == 300)
        {
            Assert.True(written.Length > 64 * 1024, $"the 300-event message is {written.Length} bytes");
        }

        // What the wrapped protocol reads back is the batch: the id and each envelope, in order.
        var input = new ReadOnlySequence<byte>(written);
        Assert.True(protocol.TryParseMessage(ref input, new EventsBinder(), out var parsed));
        Assert.True(input.IsEmpty);
        var invocation = Assert.IsType<InvocationMessage>(parsed);
        Assert.Equal("events", invocation.Target);
        Assert.Equal(subscriptionId, Assert.IsType<JsonElement>(invocation.Arguments[0]).GetString());
        var envelopes = Assert.IsType<JsonElement>(invocation.Arguments[1]);
        Assert.Equal(Enumerable.Range(1, count).Select(i => (long)i), envelopes.EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64()));
        Assert.Equal("Grüße aus 東京 🎉 é", envelopes[count - 1].GetProperty("data").GetProperty("text").GetString());
        Assert.Equal("ü-\"q\"", envelopes[count - 1].GetProperty("headers").GetProperty("trace").GetString());
    }

    [Fact]
    public void TheBatchsJson_IsWhatUtf8JsonWriterWritesEnvelopeByEnvelope()
    {
        var entries = Entries(5);
        var expected = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(expected))
        {
            writer.WriteStartArray();
            writer.WriteStringValue(HubId);
            writer.WriteStartArray();
            foreach (var entry in entries)
            {
                writer.WriteRawValue(entry.Json, skipInputValidation: true);
            }

            writer.WriteEndArray();
            writer.WriteEndArray();
        }

        var written = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(written))
        {
            writer.WriteStartArray();
            writer.WriteStringValue(HubId);
            JsonSerializer.Serialize(writer, new EventBatch(entries));
            writer.WriteEndArray();
        }

        Assert.Equal(Encoding.UTF8.GetString(expected.WrittenSpan), Encoding.UTF8.GetString(written.WrittenSpan));
        var batch = new EventBatch(entries);
        var direct = new byte[batch.JsonLength];
        Assert.Equal(direct.Length, batch.WriteJson(direct));
        Assert.Equal(expected.WrittenSpan[(HubId.Length + 4)..^1].ToArray(), direct);
    }

    public static TheoryData<string, string> OtherMessages() => new()
    {
        { "json", "gap" }, { "json", "ended" }, { "json", "invocationId" }, { "json", "headers" }, { "json", "streamIds" },
        { "json", "escapedId" }, { "json", "longId" }, { "json", "completion" }, { "json", "ping" },
        { "messagepack", "gap" }, { "messagepack", "ended" }, { "messagepack", "invocationId" }, { "messagepack", "headers" },
        { "messagepack", "streamIds" }, { "messagepack", "escapedId" }, { "messagepack", "longId" }, { "messagepack", "completion" },
        { "messagepack", "ping" },
    };

    [Theory]
    [MemberData(nameof(OtherMessages))]
    public void AnyOtherMessage_IsTheWrappedProtocols(string name, string kind)
    {
        var protocol = Wrapper(name);
        var batch = new EventBatch(Entries(3));
        HubMessage message = kind switch
        {
            "gap" => new InvocationMessage("gap", [HubId, new GapNotice(3, 9, "overflow")]),
            "ended" => new InvocationMessage("ended", [HubId, new EndedNotice("deleted")]),
            "invocationId" => new InvocationMessage("7", "events", [HubId, batch]),
            "headers" => new InvocationMessage("events", [HubId, batch]) { Headers = new Dictionary<string, string> { ["h"] = "v" } },
            "streamIds" => new InvocationMessage(null, "events", [HubId, batch], ["s-1"]),
            "escapedId" => new InvocationMessage("events", ["a\"b<é>", batch]), // not an id the hub gives: JSON escapes it
            "longId" => new InvocationMessage("events", [new string('x', 65), batch]),
            "completion" => CompletionMessage.WithResult("1", new SubscribeResult(HubId, 42, "e-1")),
            _ => PingMessage.Instance,
        };

        Assert.Equal(Written(protocol.Inner, message), Written(protocol, message));
        Assert.Equal(protocol.Inner.GetMessageBytes(message).ToArray(), protocol.GetMessageBytes(message).ToArray());
    }

    [Theory]
    [InlineData("json")]
    [InlineData("messagepack")]
    public async Task AnEventsMessageOf20KB_IsOneSegmentOfAKestrelPipe_WhereTheWrappedProtocolWritesSeveral(string name)
    {
        // Kestrel's own pool (what SignalR's connection pipes are made of): 4 KiB blocks.
        await using var app = WebApplication.CreateSlimBuilder().Build();
        using var pool = app.Services.GetRequiredService<IMemoryPoolFactory<byte>>().Create();
        Assert.Equal(4096, pool.MaxBufferSize);
        var protocol = Wrapper(name);
        var message = EventsMessage(HubId, Entries(64));

        var (wrapperSegments, wrapperBytes) = await WriteIntoPipe(pool, protocol, message);
        var (wrappedSegments, wrappedBytes) = await WriteIntoPipe(pool, protocol.Inner, message);

        Assert.True(wrapperBytes.Length is > 5 * 4096 and < 64 * 1024, $"the message is {wrapperBytes.Length} bytes");
        Assert.Equal(wrappedBytes, wrapperBytes);
        Assert.Equal(1, wrapperSegments);
        // JSON: its head in a block, the array (one raw value, EventBatch's converter) in a buffer of its own; MessagePack:
        // the whole record copied a block at a time.
        Assert.True(wrappedSegments > 1, $"the wrapped protocol wrote {wrappedSegments} segments");
    }

    [Fact]
    public void SignalRsResolver_KeepsTheLastProtocolRegisteredUnderAName()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddSignalR(); // registers SignalR's JSON protocol
        var first = new JsonEventsFrameProtocol(new JsonHubProtocol());
        var last = new JsonEventsFrameProtocol(new JsonHubProtocol());
        services.AddSingleton<IHubProtocol>(first);
        services.AddSingleton<IHubProtocol>(last);
        using var provider = services.BuildServiceProvider();

        var resolver = provider.GetRequiredService<IHubProtocolResolver>();

        Assert.Same(last, resolver.GetProtocol("json", null));
        Assert.Same(last, Assert.Single(resolver.AllProtocols));
    }

    [Fact]
    public async Task TheHub_ResolvesTheWrappers_ForJsonAndMessagePack()
    {
        await using var hub = await TestHub.StartAsync(new Dictionary<string, string?> { ["Hub:Log:Kind"] = "Memory" });
        var resolver = hub.Services.GetRequiredService<IHubProtocolResolver>();

        var json = Assert.IsType<JsonEventsFrameProtocol>(resolver.GetProtocol("json", ["json", "messagepack"]));
        Assert.IsType<JsonHubProtocol>(json.Inner);
        var messagePack = Assert.IsType<MessagePackEventsFrameProtocol>(resolver.GetProtocol("messagepack", ["json", "messagepack"]));
        Assert.IsType<MessagePackHubProtocol>(messagePack.Inner);
        Assert.Equal(["json", "messagepack"], resolver.AllProtocols.Select(p => p.Name).Order(StringComparer.Ordinal));
        foreach (var protocol in new EventsFrameProtocol[] { json, messagePack })
        {
            Assert.Equal(protocol.Inner.Name, protocol.Name);
            Assert.Equal(protocol.Inner.Version, protocol.Version);
            Assert.Equal(protocol.Inner.TransferFormat, protocol.TransferFormat);
            Assert.True(protocol.IsVersionSupported(protocol.Inner.Version));
            Assert.False(protocol.IsVersionSupported(protocol.Inner.Version + 1));
        }

        Assert.Equal(TransferFormat.Binary, messagePack.TransferFormat);
        Assert.All(resolver.AllProtocols, p => Assert.IsAssignableFrom<EventsFrameProtocol>(p));
    }

    [Theory]
    [InlineData("json")]
    [InlineData("messagepack")]
    public async Task OverARealWebSocket_EachEventsMessage_IsInOneFrame(string name)
    {
        await using var hub = await TestHub.StartAsync(new Dictionary<string, string?> { ["Hub:Log:Kind"] = "Memory" });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;
        await using var socket = await FrameSocket.ConnectAsync(hub.Address, "hubs/events", ct);
        var records = new HubRecordReader(socket, binary: name == "messagepack");
        await socket.SendAsync(Encoding.UTF8.GetBytes($"{{\"protocol\":\"{name}\",\"version\":1}}\u001e"), text: true, ct);
        Assert.Equal("{}", records.Text(await records.NextAsync(ct)));

        // One subscription under an id the client chose, one under the hub's.
        // The client writes its invocations with the hub's protocol of that name (its JSON shapes, as a client's would be).
        var clientProtocol = HubProtocols.GetProtocol(name, null)!;
        async Task Invoke(string invocationId, string request)
        {
            using var argument = JsonDocument.Parse(request);
            await socket.SendAsync(clientProtocol.GetMessageBytes(new InvocationMessage(invocationId, "Subscribe", [argument.RootElement.Clone()])), text: name == "json", ct);
        }

        await Invoke("1", $$"""{"id":"{{LongClientId}}","topics":["frames.>"]}""");
        await Invoke("2", """{"topics":["frames.>"]}""");
        var ids = new List<string>();
        while (ids.Count < 2)
        {
            var completion = records.Decode(await records.NextAsync(ct));
            if (completion.Type == 3)
            {
                Assert.True(completion.Result.ValueKind == JsonValueKind.Object, $"Subscribe failed: {completion.Raw}");
                ids.Add(completion.Result.GetProperty("subscriptionId").GetString()!);
            }
        }

        Assert.Equal(LongClientId, ids[0]);
        Assert.StartsWith("sub_", ids[1], StringComparison.Ordinal);

        // 100 events of ~250 bytes, in one append: each subscription's events message is ~25 KB, six of Kestrel's blocks.
        var published = await hub.PublishManyAsync("frames.a", 100, payloadBytes: 200);
        var received = ids.ToDictionary(id => id, _ => new List<long>());
        var largest = 0;
        while (received.Values.Any(r => r.Count < published.Length))
        {
            var (start, end) = await records.NextAsync(ct);
            var record = records.Decode((start, end));
            if (record.Target != "events")
            {
                continue;
            }

            received[record.SubscriptionId!].AddRange(record.Envelopes.EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64()));
            Assert.True(socket.FrameOf(start) == socket.FrameOf(end - 1),
                $"an events message of {end - start} bytes came in frames {socket.FrameOf(start)} to {socket.FrameOf(end - 1)}");
            largest = Math.Max(largest, end - start);
        }

        Assert.All(received.Values, r => Assert.Equal(published, r));
        Assert.True(largest > 4 * 4096, $"the largest events message was {largest} bytes");
    }

    private static EventsFrameProtocol Wrapper(string name) =>
        Assert.IsAssignableFrom<EventsFrameProtocol>(HubProtocols.GetProtocol(name, null));

    /// <summary>As <see cref="HubLifetimeManager{THub}"/> makes it from <c>SendAsync("events", id, batch)</c>.</summary>
    private static InvocationMessage EventsMessage(string subscriptionId, List<LogEntry> entries) =>
        new("events", [subscriptionId, new EventBatch(entries)]);

    /// <summary>Envelopes as the log holds them: non-ASCII text raw and escaped in <c>data</c> and <c>headers</c>.</summary>
    private static List<LogEntry> Entries(int count) =>
        Enumerable.Range(1, count).Select(i => new LogEntry(i, "orders.eu", "order.créé", $"o-{i}", null, DateTimeOffset.UnixEpoch,
            EnvelopeJson.Compose(i, Encoding.UTF8.GetBytes(
                $$$"""{"topic":"orders.eu","type":"order.créé","id":"o-{{{i}}}","key":null,"time":"2026-12-08T10:30:00.123Z","data":{"text":"Grüße aus 東京 🎉 \u00e9","n":{{{i}}},"pad":"{{{new string('x', 200 + i % 7)}}}"},"headers":{"trace":"\u00fc-\"q\""}}""")))).ToList();

    private static byte[] Written(IHubProtocol protocol, HubMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>();
        protocol.WriteMessage(message, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    private static async Task<(int Segments, byte[] Bytes)> WriteIntoPipe(MemoryPool<byte> pool, IHubProtocol protocol, HubMessage message)
    {
        var pipe = new Pipe(new PipeOptions(pool, pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false));
        protocol.WriteMessage(message, pipe.Writer);
        await pipe.Writer.FlushAsync();
        await pipe.Writer.CompleteAsync();
        var result = await pipe.Reader.ReadAsync();
        var buffer = result.Buffer;
        Assert.True(result.IsCompleted);
        var segments = 0;
        foreach (var _ in buffer)
        {
            segments++;
        }

        Assert.Equal(segments == 1, buffer.IsSingleSegment);
        var bytes = buffer.ToArray();
        pipe.Reader.AdvanceTo(buffer.End);
        await pipe.Reader.CompleteAsync();
        return (segments, bytes);
    }

    /// <summary>Binds <c>events(id, batch)</c> as the clients do: two values.</summary>
    private sealed class EventsBinder : IInvocationBinder
    {
        public IReadOnlyList<Type> GetParameterTypes(string methodName) => [typeof(JsonElement), typeof(JsonElement)];

        public Type GetReturnType(string invocationId) => typeof(JsonElement);

        public Type GetStreamItemType(string streamId) => typeof(JsonElement);
    }
}
