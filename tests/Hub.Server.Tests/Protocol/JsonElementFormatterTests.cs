using System.Buffers;
using System.Text.Json;
using Hub.Protocol;
using MessagePack;

namespace Hub.Server.Tests.Protocol;

/// <summary>MessagePack ⇄ JSON for the hub protocol: what JSON has a word for round-trips; what it has not becomes a
/// string or an object that the request parser can name in its error.</summary>
public sealed class JsonElementFormatterTests
{
    private static readonly MessagePackSerializerOptions Options = MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData);

    [Theory]
    [InlineData("""{"topics":["a.*"],"after":null,"maxDemand":10,"ok":true,"no":false}""")]
    [InlineData("""{"n":-9223372036854775808,"u":18446744073709551615,"f":1.5,"e":1E-300,"s":"é\"\u0001","a":[[],{},[1,[2]]]}""")]
    [InlineData("""[1,"x",null]""")]
    [InlineData("\"just a string\"")]
    [InlineData("42")]
    public void Json_RoundTrips_ThroughMessagePack(string json)
    {
        using var document = JsonDocument.Parse(json);
        var bytes = Write(document.RootElement);
        var back = Read(bytes);
        Assert.True(JsonElement.DeepEquals(document.RootElement, back), $"{json} came back as {back.GetRawText()}");
    }

    [Fact]
    public void WhatJsonHasNoWordFor_BecomesAStringOrObject_TheParserCanName()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(7);
        writer.Write("nan");
        writer.Write(double.NaN);
        writer.Write("inf");
        writer.Write(double.NegativeInfinity);
        writer.Write("bin");
        writer.Write(new byte[] { 1, 2, 255 });
        writer.Write("time");
        writer.Write(new DateTime(2026, 12, 7, 10, 30, 0, DateTimeKind.Utc));
        writer.Write("ext");
        writer.WriteExtensionFormat(new ExtensionResult(42, new byte[] { 7 }));
        writer.Write(7); // an integer key
        writer.Write("seven");
        writer.Write(true); // a boolean key
        writer.WriteNil();
        writer.Flush();

        var json = Read(buffer.WrittenMemory);
        Assert.Equal("NaN", json.GetProperty("nan").GetString());
        Assert.Equal("-Infinity", json.GetProperty("inf").GetString());
        Assert.Equal(Convert.ToBase64String([1, 2, 255]), json.GetProperty("bin").GetString());
        Assert.Equal("2026-12-07T10:30:00.0000000Z", json.GetProperty("time").GetString());
        Assert.Equal(42, json.GetProperty("ext").GetProperty("extension").GetInt32());
        Assert.Equal(Convert.ToBase64String([7]), json.GetProperty("ext").GetProperty("data").GetString());
        Assert.Equal("seven", json.GetProperty("7").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("true").ValueKind);
    }

    [Fact]
    public void NestingBeyondTheSecurityDepth_IsRefused()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        for (var i = 0; i < 1000; i++)
        {
            writer.WriteArrayHeader(1);
        }

        writer.WriteNil();
        writer.Flush();
        Assert.ThrowsAny<Exception>(() => Read(buffer.WrittenMemory));
    }

    private static byte[] Write(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        JsonElementFormatter.Write(ref writer, element);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static JsonElement Read(ReadOnlyMemory<byte> bytes)
    {
        var reader = new MessagePackReader(bytes);
        return JsonElementFormatter.Instance.Deserialize(ref reader, Options);
    }
}
