using System.Net;
using System.Text.Json.Nodes;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests;

/// <summary>The <c>Idempotency-Key</c> header on <c>POST /api/events</c> (issue 3), with either log.</summary>
public sealed class IdempotencyKeyTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "hub-idempotency-" + Guid.NewGuid().ToString("N"));

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>
    /// The same key with a different body still answers the first response and appends nothing: the key names the
    /// publisher's attempt, and a retry must never append twice whatever it resends (as Stripe's idempotency keys; the
    /// alternative, a 422 for a changed body, would make the retry fail instead of being safe).
    /// </summary>
    [Theory]
    [InlineData("Memory")]
    [InlineData("Sqlite")]
    public async Task IdempotencyKey_RepeatedBatch_AnswersTheSameAndAppendsNothing_EvenWithAnotherBody(string kind)
    {
        var settings = new Dictionary<string, string?> { ["Hub:Log:Kind"] = kind };
        if (kind == "Sqlite")
        {
            settings["Hub:Log:Sqlite:Path"] = Path.Combine(_directory, "hub.db");
        }

        await using var hub = await TestHub.StartAsync(settings);
        var batch = new[] { new { topic = "k", data = 1 }, new { topic = "k", data = 2 } }; // no ids: only the key can dedup them
        var (status1, first) = await PostWithKeyAsync(hub.Http, "k1", batch);
        Assert.Equal(HttpStatusCode.Accepted, status1);
        Assert.Equal([1L, 2L], SequencesOf(first));

        var (status2, again) = await PostWithKeyAsync(hub.Http, "k1", batch);
        Assert.Equal(HttpStatusCode.Accepted, status2);
        Assert.True(JsonNode.DeepEquals(first, again), $"the same key answered {again} after {first}");
        Assert.Equal(2, await hub.GetHeadAsync());

        var (status3, changed) = await PostWithKeyAsync(hub.Http, "k1", new[] { new { topic = "k", data = 3 } });
        Assert.Equal(HttpStatusCode.Accepted, status3);
        Assert.True(JsonNode.DeepEquals(first, changed), $"the same key with another body answered {changed}, not the first answer {first}");
        Assert.Equal(2, await hub.GetHeadAsync());

        // Another key is another publish: the key, not the body, decided.
        var (status4, other) = await PostWithKeyAsync(hub.Http, "k2", batch);
        Assert.Equal(HttpStatusCode.Accepted, status4);
        Assert.Equal([3L, 4L], SequencesOf(other));
        Assert.Equal(4, await hub.GetHeadAsync());
    }

    private static long[] SequencesOf(JsonNode? answer) =>
        answer?["events"]?.AsArray().Select(e => e!["sequence"]!.GetValue<long>()).ToArray() ?? throw new InvalidOperationException($"not a publish answer: {answer}");

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> PostWithKeyAsync(HttpClient http, string key, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/events") { Content = TestHub.Json(body) };
        request.Headers.Add("Idempotency-Key", key);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text));
    }
}
