using System.Text;
using System.Text.Json;
using Hub.Server.Publishing;

namespace Hub.Server.Tests.Publishing;

public sealed class PublishRequestParserTests
{
    private readonly PublishRequestParser _parser = new(maxBatchEvents: 3);

    private PublishParseResult Parse(string json) => _parser.Parse(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Parse_OneEvent_WritesTheEnvelopeWithoutSequence()
    {
        var result = Parse("""{"topic":"a.b","type":"t","id":"i","key":"k","data":{"x":[1,2]},"headers":{"h":"v"},"extra":1}""");
        var draft = Assert.Single(result.Drafts!);
        using var body = JsonDocument.Parse(draft.Body);
        var root = body.RootElement;
        Assert.Equal(("a.b", "t", "i", "k"), (root.GetProperty("topic").GetString(), root.GetProperty("type").GetString(), root.GetProperty("id").GetString(), root.GetProperty("key").GetString()));
        Assert.Equal("[1,2]", root.GetProperty("data").GetProperty("x").GetRawText());
        Assert.Equal("v", root.GetProperty("headers").GetProperty("h").GetString());
        Assert.False(root.TryGetProperty("sequence", out _));
        Assert.False(root.TryGetProperty("extra", out _));
        Assert.EndsWith("Z", root.GetProperty("time").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_WithoutData_WritesNull()
    {
        using var body = JsonDocument.Parse(Parse("""{"topic":"a"}""").Drafts![0].Body);
        Assert.Equal(JsonValueKind.Null, body.RootElement.GetProperty("data").ValueKind);
    }

    [Theory]
    [InlineData("""{"topic":"a","type":5}""", "type")]
    [InlineData("""{"topic":"a","id":""}""", "id")]
    [InlineData("""{"topic":"a","key":{}}""", "key")]
    [InlineData("""{"topic":"a","id":"x\u0000y"}""", "id")] // no database's text holds U+0000
    [InlineData("""{"topic":"a","type":"\u0000"}""", "type")]
    [InlineData("""{"topic":"a","key":"k\u0000"}""", "key")]
    [InlineData("""{"topic":"a","headers":[1]}""", "headers")]
    [InlineData("""{"topic":"a","headers":{"h":null}}""", "headers.h")]
    [InlineData("""[{"topic":"a"},5]""", "[1]")]
    [InlineData("""[{"topic":"a"},{"topic":"a"},{"topic":"a"},{"topic":"a"}]""", "body")]
    [InlineData("""42""", "body")]
    [InlineData("""{"topic":"a","topic":"b"}""", "body")]
    [InlineData("""{"topic":"\ud800"}""", "body")]
    public void Parse_NamesTheBadField(string json, string field)
    {
        var result = Parse(json);
        Assert.Null(result.Drafts);
        Assert.Contains(field, result.Errors!.Keys);
    }

    [Fact]
    public void Parse_ReportsEveryBadEventOfABatch()
    {
        var result = Parse("""[{"topic":"a.."},{"topic":"ok"},{}]""");
        Assert.Equal(["[0].topic", "[2].topic"], result.Errors!.Keys.Order());
    }

    [Theory]
    [InlineData(new byte[] { 0xed, 0xa0, 0x80 })] // an encoded surrogate
    [InlineData(new byte[] { 0xe2, 0x82 })] // a truncated sequence
    [InlineData(new byte[] { 0xf4, 0x90, 0x80, 0x80 })] // past U+10FFFF
    public void Parse_InvalidUtf8InData_FailsNamingTheBody_ThoughTheJsonReaderWouldCopyIt(byte[] invalid)
    {
        var result = _parser.Parse((byte[])[.. "{\"topic\":\"a\",\"data\":\"x"u8, .. invalid, .. "\"}"u8]);
        Assert.Null(result.Drafts);
        Assert.Contains("not valid UTF-8 (at byte 22)", Assert.Single(result.Errors!["body"]));
    }

    [Fact]
    public void Parse_EventOverMaxEventBytes_FailsNamingIt_AndOneAtTheLimitPasses()
    {
        var parser = new PublishRequestParser(maxBatchEvents: 10, maxEventBytes: 200);
        Assert.Contains("Hub:Publish:MaxEventBytes", Assert.Single(parser.Parse(Encoding.UTF8.GetBytes($$"""[{"topic":"a"},{"topic":"a","data":"{{new string('x', 200)}}"}]""")).Errors!["[1]"]));
        Assert.NotNull(parser.Parse(Encoding.UTF8.GetBytes($$"""{"topic":"a","data":"{{new string('x', 50)}}"}""")).Drafts);
    }

    private const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    [Fact]
    public void Parse_WithATraceParent_AddsItToEachEventsHeaders_KeepingThePublishers()
    {
        var result = _parser.Parse(Encoding.UTF8.GetBytes("""[{"topic":"a"},{"topic":"b","headers":{"h":"v"}}]"""), TraceParent);
        using var first = JsonDocument.Parse(result.Drafts![0].Body);
        using var second = JsonDocument.Parse(result.Drafts![1].Body);
        Assert.Equal(TraceParent, first.RootElement.GetProperty("headers").GetProperty("traceparent").GetString());
        Assert.Equal(("v", TraceParent), (second.RootElement.GetProperty("headers").GetProperty("h").GetString(), second.RootElement.GetProperty("headers").GetProperty("traceparent").GetString()));
    }

    [Fact]
    public void Parse_WithATraceParent_LeavesOneThePublisherSetAlone()
    {
        const string mine = "00-11111111111111111111111111111111-2222222222222222-00";
        var result = _parser.Parse(Encoding.UTF8.GetBytes("{\"topic\":\"a\",\"headers\":{\"TraceParent\":\"" + mine + "\"}}"), TraceParent);
        using var body = JsonDocument.Parse(result.Drafts![0].Body);
        var headers = body.RootElement.GetProperty("headers");
        Assert.Equal(mine, headers.GetProperty("TraceParent").GetString());
        Assert.False(headers.TryGetProperty("traceparent", out _));
    }

    [Fact]
    public void Parse_WithoutATraceParent_LeavesHeadersAsSent()
    {
        using var body = JsonDocument.Parse(Parse("""{"topic":"a"}""").Drafts![0].Body);
        Assert.Equal(JsonValueKind.Null, body.RootElement.GetProperty("headers").ValueKind);
    }

    [Fact]
    public void Parse_DataAndHeaders_AreStoredAsTheirBytesWereSent()
    {
        const string data = "{ \"s\" : \"é<&\", \"n\" : [1, 2.50] }";
        const string headers = "{\"h\" : \"v\"}";
        var draft = Assert.Single(Parse("{\"topic\":\"a\",\"data\":" + data + ",\"headers\":" + headers + "}").Drafts!);
        using var body = JsonDocument.Parse(draft.Body);
        Assert.Equal(data, body.RootElement.GetProperty("data").GetRawText());
        Assert.Equal(headers, body.RootElement.GetProperty("headers").GetRawText());
    }

    [Fact]
    public void Parse_DataWithEscapes_KeepsTheirText()
    {
        var draft = Assert.Single(Parse("""{"topic":"a","data":{"s":"\u00e9\n\ud83d\ude00"}}""").Drafts!);
        using var body = JsonDocument.Parse(draft.Body);
        Assert.Equal("é\n😀", body.RootElement.GetProperty("data").GetProperty("s").GetString());
    }

    [Theory]
    [InlineData("""{"topic":"a","data":{"s":"\ud800"}}""")]
    [InlineData("""{"topic":"a","data":["x","\udc00"]}""")]
    [InlineData("""{"topic":"a","headers":{"h":"\ud800"}}""")]
    public void Parse_ALoneSurrogateEscapedInDataOrHeaders_FailsNamingTheBody(string json)
    {
        var result = Parse(json);
        Assert.Null(result.Drafts);
        Assert.Contains("invalid string", Assert.Single(result.Errors!["body"]));
    }
}
