using System.Buffers;
using System.Text;
using System.Text.Json;
using Hub.Log;
using Hub.Server.Api;

namespace Hub.Server.Tests.Api;

/// <summary>
/// The 202 body written by <see cref="PublishAccepted"/> is byte for byte what the serializer writes for
/// <see cref="PublishResponse"/> with the API's JSON options (camelCase, nulls written, the default escaping), for ids
/// and topics that need escaping too.
/// </summary>
public sealed class PublishAcceptedTests
{
    public static TheoryData<string, string?> Names() => new()
    {
        { "orders.eu", null },
        { "orders.eu", "o-1" },
        { "a", "quote\" backslash\\ tab\t" },
        { "é.日本", "<script>&'+" },
        { "emoji", "\U0001F600 \u2028" },
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void Body_IsWhatTheSerializerWrites(string topic, string? id)
    {
        AppendedEvent[] appended = [new(1, topic, id, false), new(long.MaxValue, topic, id, true), new(3, "other", null, false)];
        var expected = JsonSerializer.Serialize(
            new PublishResponse([.. appended.Select(a => new PublishedEvent(a.Sequence, a.Topic, a.Id, a.Duplicate))]),
            new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase });

        var output = new ArrayBufferWriter<byte>();
        PublishAccepted.Write(appended, output);

        Assert.Equal(expected, Encoding.UTF8.GetString(output.WrittenSpan));
    }
}
