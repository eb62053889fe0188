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

    // The body is checked as JSON whole before any event's fields, as JsonDocument did: duplicate property names are
    // refused at every depth, compared unescaped, and named as JsonDocument named them.
    [Theory]
    [InlineData("""{"topic":"a","data":{"x":{"y":[1,{"z":1,"z":2}]}}}""", "z")]
    [InlineData("""{"topic":"a","data":{"a":1,"\u0061":2}}""", "a")]
    [InlineData("""{"topic":"a","\u0074opic":"b"}""", "topic")]
    [InlineData("""[{"topic":"a"},{"topic":"a","headers":{"h":"v","h":"w"}}]""", "h")]
    [InlineData("""{"topic":"a","data":{"a_property_name_longer_than_15":1,"a_property_name_longer_than_15":2}}""", "a_property_name...")]
    public void Parse_ADuplicatePropertyAnywhere_FailsTheBodyAsMalformed_NamingIt(string json, string shown)
    {
        var result = Parse(json);
        Assert.Null(result.Drafts);
        Assert.Equal($"malformed JSON: Duplicate property '{shown}' encountered during deserialization.", Assert.Single(Assert.Single(result.Errors!, e => e.Key == "body").Value));
        Assert.Single(result.Errors!);
    }

    [Fact]
    public void Parse_ADuplicateInAnObjectOfManyMembers_IsFound_AndManyDistinctMembersPass()
    {
        var members = string.Join(",", Enumerable.Range(0, 40).Select(i => $"\"k{i}\":{i}"));
        Assert.Equal("malformed JSON: Duplicate property 'k39' encountered during deserialization.",
            Assert.Single(Parse("{\"topic\":\"a\",\"data\":{" + members + ",\"\\u006b39\":0}}").Errors!["body"]));
        var draft = Assert.Single(Parse("{\"topic\":\"a\",\"data\":{" + members + "}}").Drafts!);
        using var body = JsonDocument.Parse(draft.Body);
        Assert.Equal(39, body.RootElement.GetProperty("data").GetProperty("k39").GetInt32());
    }

    [Fact]
    public void Parse_ReportsTheDuplicateOfTheObjectThatEndsFirst_AndOnlyWhenTheRestIsWellFormed()
    {
        // The inner object ends before the event does, so its duplicate is the one named (as JsonDocument named it).
        Assert.Equal("malformed JSON: Duplicate property 'x' encountered during deserialization.",
            Assert.Single(Parse("""{"topic":"a","data":{"x":1,"x":2},"data":1}""").Errors!["body"]));
        // A syntax error anywhere is reported instead of a duplicate before it.
        Assert.StartsWith("malformed JSON: 'tru}' is an invalid JSON literal.", Assert.Single(Parse("""{"topic":"a","data":{"x":1,"x":2},"b":tru}""").Errors!["body"]));
    }

    [Fact]
    public void Parse_NestingOf64Passes_And65FailsAsMalformed()
    {
        // The event object is the first level: data's arrays make the other 63, then 64.
        var deepest = Assert.Single(Parse("{\"topic\":\"a\",\"data\":" + new string('[', 63) + new string(']', 63) + "}").Drafts!);
        using var body = JsonDocument.Parse(deepest.Body, new JsonDocumentOptions { MaxDepth = 64 });
        Assert.Equal(new string('[', 63) + new string(']', 63), body.RootElement.GetProperty("data").GetRawText());
        Assert.StartsWith("malformed JSON: The maximum configured depth of 64 has been exceeded.",
            Assert.Single(Parse("{\"topic\":\"a\",\"data\":" + new string('[', 64) + new string(']', 64) + "}").Errors!["body"]));
    }

    [Theory]
    [InlineData("""{"topic":"a","\ud800":1}""")]
    [InlineData("""{"topic":"a","data":{"\udc00x":1}}""")]
    [InlineData("""{"topic":"a","headers":{"\ud800":"v"}}""")]
    public void Parse_APropertyNameEscapingALoneSurrogate_FailsNamingTheBody(string json)
    {
        // JsonDocument threw out of the parser on these (a 500); they are refused as the strings are.
        var result = Parse(json);
        Assert.Null(result.Drafts);
        Assert.StartsWith("invalid string: Cannot read ", Assert.Single(result.Errors!["body"]));
    }

    [Fact]
    public void Parse_MalformedJsonAfterBadEvents_ReportsOnlyTheMalformedJson()
    {
        var result = Parse("""[{"topic":"a.."},{"type":5},{"topic":"a",}]""");
        Assert.Equal("body", Assert.Single(result.Errors!).Key);
        Assert.StartsWith("malformed JSON: The JSON object contains a trailing comma", result.Errors!["body"][0]);
    }

    [Fact]
    public void Parse_ABatchOverTheLimit_IsCountedWhole_BeforeItsEventsAreJudged()
    {
        Assert.Equal("a batch may hold at most 3 events (got 5)", Assert.Single(Parse("""[{},{"topic":"\ud800"},1,{"topic":"a"},[]]""").Errors!["body"]));
        Assert.Equal("a batch must hold at least one event", Assert.Single(Parse("[ ]").Errors!["body"]));
        // Still checked as JSON past the limit.
        Assert.StartsWith("malformed JSON: Duplicate property 'x'", Assert.Single(Parse("""[{},{},{},{"x":1,"x":2}]""").Errors!["body"]));
    }

    [Fact]
    public void Parse_ALoneSurrogateInALaterField_IsReportedOverEarlierBadFields()
    {
        var result = Parse("""[{"topic":"a.."},{"topic":"a","type":5,"key":"\udc00"}]""");
        Assert.Equal("invalid string: Cannot read invalid UTF-16 JSON text as string. Invalid surrogate value: '0xDC00'.", Assert.Single(result.Errors!["body"]));
    }

    [Fact]
    public void Parse_WithATraceParent_WritesThePublishersHeadersThroughTheWriter_AndSeesAnEscapedTraceParentName()
    {
        var added = Assert.Single(_parser.Parse(Encoding.UTF8.GetBytes("""{"topic":"a","headers":{ "h" : "é", "\u0067":"x"}}"""), TraceParent).Drafts!);
        using (var body = JsonDocument.Parse(added.Body))
        {
            Assert.Equal("{\"h\":\"\\u00E9\",\"g\":\"x\",\"traceparent\":\"" + TraceParent + "\"}", body.RootElement.GetProperty("headers").GetRawText());
        }

        var kept = Assert.Single(_parser.Parse(Encoding.UTF8.GetBytes("""{"topic":"a","headers":{"tr\u0061ceparent":"mine"}}"""), TraceParent).Drafts!);
        using (var body = JsonDocument.Parse(kept.Body))
        {
            // Kept, and (holding a \u escape) written through the writer, which decodes the name.
            Assert.Equal("""{"traceparent":"mine"}""", body.RootElement.GetProperty("headers").GetRawText());
        }
    }

    [Fact]
    public void Parse_ABatch_GivesEachEventItsFields_TheRequestsTime_AndItsOwnBytes()
    {
        var time = new DateTimeOffset(2026, 12, 8, 5, 0, 0, 123, TimeSpan.Zero);
        var parser = new PublishRequestParser(maxBatchEvents: 10, new FixedTime(time));
        var drafts = parser.Parse(Encoding.UTF8.GetBytes("""[{"topic":"a.b","id":"1","data":1},{"topic":"a.b","type":"t","key":"k","data":[true, null]},{"topic":"c","data":{"s":"x\ny"}}]""")).Drafts!;
        Assert.Equal([("a.b", null, "1", null), ("a.b", "t", null, "k"), ("c", null, null, null)], drafts.Select(d => (d.Topic, d.Type, d.Id, d.Key)));
        Assert.All(drafts, d => Assert.Equal(time, d.Time));
        Assert.Equal(
        [
            """{"topic":"a.b","type":null,"id":"1","key":null,"time":"2026-12-08T05:00:00.123Z","data":1,"headers":null}""",
            """{"topic":"a.b","type":"t","id":null,"key":"k","time":"2026-12-08T05:00:00.123Z","data":[true, null],"headers":null}""",
            """{"topic":"c","type":null,"id":null,"key":null,"time":"2026-12-08T05:00:00.123Z","data":{"s":"x\ny"},"headers":null}""",
        ], drafts.Select(d => Encoding.UTF8.GetString(d.Body)));
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
