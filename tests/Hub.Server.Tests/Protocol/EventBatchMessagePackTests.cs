using System.Text;
using System.Text.Json;
using Hub.Protocol;
using Hub.Log;
using Hub.Server.Protocol;
using Hub.Server.Subscriptions;
using MessagePack;

namespace Hub.Server.Tests.Protocol;

/// <summary>An event batch under MessagePack: each envelope converted once per entry and copied into every batch; the
/// same fields and values as its JSON.</summary>
public sealed class EventBatchMessagePackTests
{
    private static readonly MessagePackSerializerOptions Options = MessagePackSerializerOptions.Standard
        .WithResolver(new JsonShapedResolver(new JsonSerializerOptions(JsonSerializerDefaults.Web), EventBatch.MessagePackResolver));

    [Fact]
    public void AnEntrysMessagePack_IsMadeOnce_AndCarriesTheEnvelopesFields()
    {
        var entry = Entry(7, """{"topic":"orders.eu","type":"t","id":"o-1","key":null,"time":"2026-12-07T10:30:00Z","data":{"total":42,"items":[1.5,"x"]},"headers":{"trace":"t-1"}}""");
        var first = entry.MessagePack();
        Assert.Same(first, entry.MessagePack());

        var reader = new MessagePackReader(first);
        var decoded = JsonElementFormatter.Instance.Deserialize(ref reader, Options);
        using var json = JsonDocument.Parse(entry.Json);
        Assert.True(JsonElement.DeepEquals(json.RootElement, decoded), decoded.GetRawText());
        Assert.Equal(7, decoded.GetProperty("sequence").GetInt64());
    }

    [Fact]
    public void ABatch_IsAnArrayOfTheEntriesBytes()
    {
        var entries = new List<LogEntry> { Entry(1, """{"topic":"a","data":1}"""), Entry(2, """{"topic":"b","data":null}""") };
        var bytes = MessagePackSerializer.Serialize(new EventBatch(entries), Options);
        Assert.Equal(0x92, bytes[0]); // a fixarray of 2
        Assert.Equal([.. entries[0].MessagePack(), .. entries[1].MessagePack()], bytes[1..]);

        var reader = new MessagePackReader(bytes);
        var decoded = JsonElementFormatter.Instance.Deserialize(ref reader, Options);
        Assert.Equal([1L, 2L], decoded.EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64()));
        Assert.Equal(JsonValueKind.Null, decoded[1].GetProperty("data").ValueKind);
    }

    [Fact]
    public void OtherValues_HaveTheFieldsTheJsonProtocolGivesThem()
    {
        var bytes = MessagePackSerializer.Serialize(new GapNotice(3, 9, "overflow"), Options);
        var reader = new MessagePackReader(bytes);
        var decoded = JsonElementFormatter.Instance.Deserialize(ref reader, Options);
        Assert.Equal("""{"from":3,"to":9,"reason":"overflow"}""", decoded.GetRawText());
    }

    private static LogEntry Entry(long sequence, string body) =>
        new(sequence, "t", null, null, null, DateTimeOffset.UnixEpoch, EnvelopeJson.Compose(sequence, Encoding.UTF8.GetBytes(body)));
}
