using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests;

/// <summary>The REST API on a real Kestrel: what it answers, and that a rejected request changes nothing.</summary>
public sealed class EventsApiTests : IAsyncLifetime
{
    private TestHub _hub = null!;

    public async Task InitializeAsync() => _hub = await TestHub.StartAsync(new Dictionary<string, string?>
    {
        ["Hub:Publish:MaxBodyBytes"] = "4096",
        ["Hub:Publish:MaxBatchEvents"] = "5",
    });

    public async Task DisposeAsync() => await _hub.DisposeAsync();

    [Fact]
    public async Task Publish_OneEvent_Answers202WithItsSequence_AndTheLogHasIt()
    {
        using var response = await _hub.Http.PostAsync("api/events", TestHub.Json(new { topic = "orders.eu", type = "order.created", id = "o-1", key = "k", data = new { n = 1 }, headers = new { trace = "t1" } }));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var published = Assert.Single(body.GetProperty("events").EnumerateArray());
        Assert.Equal(1, published.GetProperty("sequence").GetInt64());
        Assert.Equal("orders.eu", published.GetProperty("topic").GetString());
        Assert.Equal("o-1", published.GetProperty("id").GetString());

        var page = await _hub.Http.GetFromJsonAsync<JsonElement>("api/events?after=0");
        var envelope = Assert.Single(page.GetProperty("events").EnumerateArray());
        Assert.Equal("order.created", envelope.GetProperty("type").GetString());
        Assert.Equal("k", envelope.GetProperty("key").GetString());
        Assert.Equal(1, envelope.GetProperty("data").GetProperty("n").GetInt32());
        Assert.Equal("t1", envelope.GetProperty("headers").GetProperty("trace").GetString());
        Assert.Equal(1, page.GetProperty("next").GetInt64());
    }

    [Fact]
    public async Task Publish_Batch_GetsConsecutiveSequencesInOrder()
    {
        var sequences = await _hub.PublishAsync(new[] { new { topic = "a" }, new { topic = "b" }, new { topic = "a" } });
        Assert.Equal([1L, 2L, 3L], sequences);
        var topics = await _hub.Http.GetFromJsonAsync<JsonElement[]>("api/topics");
        Assert.Equal(["a:2:3", "b:1:2"], topics!.Select(t => $"{t.GetProperty("topic").GetString()}:{t.GetProperty("count").GetInt64()}:{t.GetProperty("lastSequence").GetInt64()}"));
    }

    [Fact]
    public async Task Publish_SameTopicAndIdAgain_AnswersTheFirstSequence_AndAppendsNothing()
    {
        var first = await _hub.PublishAsync(new { topic = "t", id = "x" });
        using var again = await _hub.Http.PostAsync("api/events", TestHub.Json(new[] { new { topic = "t", id = "x" }, new { topic = "u", id = "x" } }));
        var body = await again.Content.ReadFromJsonAsync<JsonElement>();
        var events = body.GetProperty("events").EnumerateArray().ToArray();
        Assert.Equal(first[0], events[0].GetProperty("sequence").GetInt64());
        Assert.True(events[0].GetProperty("duplicate").GetBoolean());
        Assert.Equal(2, events[1].GetProperty("sequence").GetInt64()); // the same id on another topic is another event
        Assert.Equal(2, await _hub.GetHeadAsync());
    }

    [Fact]
    public async Task Read_FiltersByPattern_AndPagesWithNext()
    {
        await _hub.PublishAsync(new[] { new { topic = "o.eu" }, new { topic = "p" }, new { topic = "o.us" }, new { topic = "o.eu.x" }, new { topic = "o.de" } });
        var page = await _hub.Http.GetFromJsonAsync<JsonElement>("api/events?topic=o.*&after=0&limit=2");
        Assert.Equal([1L, 3L], page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64()));
        var next = page.GetProperty("next").GetInt64();
        page = await _hub.Http.GetFromJsonAsync<JsonElement>($"api/events?topic=o.*&after={next}&limit=2");
        Assert.Equal([5L], page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64()));
        Assert.Equal(5, page.GetProperty("next").GetInt64());
        page = await _hub.Http.GetFromJsonAsync<JsonElement>("api/events?topic=o.>");
        Assert.Equal(4, page.GetProperty("events").GetArrayLength());
    }

    [Theory]
    [InlineData("topic=a..b", "topic")]
    [InlineData("topic=a.>.b", "topic")]
    [InlineData("after=-1", "after")]
    [InlineData("after=abc", "after")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    public async Task Read_WithABadParameter_Answers400NamingIt(string query, string field)
    {
        using var response = await _hub.Http.GetAsync($"api/events?{query}");
        await AssertProblem(response, HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task Publish_MalformedJson_Answers400_AndAppendsNothing() =>
        await AssertRejected(Raw("{\"topic\": \"a\","), HttpStatusCode.BadRequest, "body");

    [Fact]
    public async Task Publish_MissingTopic_Answers400NamingTheField() =>
        await AssertRejected(TestHub.Json(new { type = "x" }), HttpStatusCode.BadRequest, "topic");

    [Fact]
    public async Task Publish_InvalidTopic_Answers400NamingTheField() =>
        await AssertRejected(TestHub.Json(new { topic = "orders..eu" }), HttpStatusCode.BadRequest, "topic");

    [Fact]
    public async Task Publish_WildcardTopic_Answers400() =>
        await AssertRejected(TestHub.Json(new { topic = "orders.*" }), HttpStatusCode.BadRequest, "topic");

    [Fact]
    public async Task Publish_OneBadEventInABatch_RejectsTheWholeBatch_NamingItsIndex() =>
        await AssertRejected(TestHub.Json(new object[] { new { topic = "ok" }, new { topic = "ok" }, new { topic = 7 } }), HttpStatusCode.BadRequest, "[2].topic");

    [Fact]
    public async Task Publish_WrongFieldType_Answers400NamingTheField() =>
        await AssertRejected(TestHub.Json(new { topic = "a", headers = new { h = 1 } }), HttpStatusCode.BadRequest, "headers.h");

    [Fact]
    public async Task Publish_BatchOverTheLimit_Answers400() =>
        await AssertRejected(TestHub.Json(Enumerable.Range(0, 6).Select(_ => new { topic = "a" }).ToArray()), HttpStatusCode.BadRequest, "body");

    [Fact]
    public async Task Publish_EmptyBatch_Answers400() =>
        await AssertRejected(Raw("[]"), HttpStatusCode.BadRequest, "body");

    [Fact]
    public async Task Publish_BodyOverTheLimit_Answers413() =>
        await AssertRejected(TestHub.Json(new { topic = "a", data = new string('x', 5000) }), HttpStatusCode.RequestEntityTooLarge, "body");

    [Fact]
    public async Task Publish_ChunkedBodyOverTheLimit_Answers413()
    {
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("{\"topic\":\"a\",\"data\":\"" + new string('x', 5000) + "\"}")));
        content.Headers.ContentType = new("application/json");
        await AssertRejected(content, HttpStatusCode.RequestEntityTooLarge, "body");
    }

    [Fact]
    public async Task Publish_WrongContentType_Answers415() =>
        await AssertRejected(new StringContent("{\"topic\":\"a\"}", Encoding.UTF8, "text/plain"), HttpStatusCode.UnsupportedMediaType, "Content-Type");

    [Fact]
    public async Task Publish_InvalidUtf8_Answers400() =>
        await AssertRejected(new ByteArrayContent([.. "{\"topic\":\""u8, 0xC3, 0x28, .. "\"}"u8]) { Headers = { ContentType = new("application/json") } }, HttpStatusCode.BadRequest, "body");

    [Fact]
    public async Task Publish_DeeplyNestedData_Answers400() =>
        await AssertRejected(Raw("{\"topic\":\"a\",\"data\":" + new string('[', 200) + new string(']', 200) + "}"), HttpStatusCode.BadRequest, "body");

    [Fact]
    public async Task Health_LiveAndReady_Answer200()
    {
        using var live = await _hub.Http.GetAsync("health/live");
        using var ready = await _hub.Http.GetAsync("health/ready");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task Cors_AllowsBrowsersFromOtherOriginsByDefault()
    {
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "hubs/events/negotiate?negotiateVersion=1");
        preflight.Headers.Add("Origin", "http://app.example.test");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        using var response = await _hub.Http.SendAsync(preflight);
        Assert.Equal("http://app.example.test", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal("true", response.Headers.GetValues("Access-Control-Allow-Credentials").Single());
    }

    [Fact]
    public async Task Cors_WithAllowedOrigins_RefusesOthers()
    {
        await using var hub = await TestHub.StartAsync(new Dictionary<string, string?> { ["Hub:Cors:AllowedOrigins:0"] = "http://ok.test" });
        foreach (var (origin, allowed) in new[] { ("http://ok.test", true), ("http://evil.test", false) })
        {
            using var preflight = new HttpRequestMessage(HttpMethod.Options, "api/events");
            preflight.Headers.Add("Origin", origin);
            preflight.Headers.Add("Access-Control-Request-Method", "POST");
            using var response = await hub.Http.SendAsync(preflight);
            Assert.Equal(allowed, response.Headers.Contains("Access-Control-Allow-Origin"));
        }
    }

    private static StringContent Raw(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task AssertRejected(HttpContent content, HttpStatusCode status, string field)
    {
        var headBefore = await _hub.GetHeadAsync();
        using var response = await _hub.Http.PostAsync("api/events", content);
        await AssertProblem(response, status, field);
        Assert.Equal(headBefore, await _hub.GetHeadAsync());
        using var ok = await _hub.Http.PostAsync("api/events", TestHub.Json(new { topic = "after.rejection" }));
        Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode); // and the hub still serves a well-behaved client
    }

    private static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status, string field)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        Assert.Equal((int)status, problem.RootElement.GetProperty("status").GetInt32());
        var detail = problem.RootElement.GetProperty("detail").GetString()!;
        Assert.StartsWith(field + ":", detail, StringComparison.Ordinal);
    }
}
