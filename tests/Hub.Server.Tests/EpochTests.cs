using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests;

/// <summary>
/// Epochs (CONTRACT.md): every log has one, fixed when it is created; Subscribe and <c>GET /api/events</c> answer it; a
/// position from another log (another epoch, or an <c>after</c> beyond the head) is refused naming the field and saying
/// the log was reset, never served from somewhere else. The restarts run a real hub process on a real file.
/// </summary>
public sealed class EpochTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly HubWorkspace _workspace = new("hub-epoch-");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _workspace.DisposeAsync();

    [Fact]
    public async Task SubscribeAndRead_AnswerTheLogsEpoch_AndTheSameEpochWithAfterResumes()
    {
        await using var hub = await TestHub.StartAsync();
        var published = await hub.PublishManyAsync("e", 5);
        var page = await ReadAsync(hub.Http, "api/events?topic=e&after=0");
        var epoch = page.GetProperty("epoch").GetString();
        Assert.Matches("^[0-9a-f]{32}$", epoch);
        Assert.Equal(published, page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64()));

        await using var client = await hub.ConnectAsync();
        var live = await client.SubscribeAsync(new SubscribeArgs(["e"]));
        Assert.Equal((published[^1], epoch), (live.Position, live.Epoch));

        var resumed = await client.SubscribeAsync(new SubscribeArgs(["e"], After: published[1], Epoch: epoch));
        await resumed.WaitForCountAsync(3);
        Assert.Equal(published[2..], resumed.Sequences);
        Assert.Equal(epoch, resumed.Epoch);

        // The same with GET: the matching epoch reads on.
        var next = await ReadAsync(hub.Http, $"api/events?topic=e&after={published[2]}&epoch={epoch}");
        Assert.Equal(published[3..], next.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64()));
    }

    [Fact]
    public async Task Subscribe_WithAnotherEpoch_FailsNamingEpoch_SaysTheLogWasReset_AndCreatesNothing()
    {
        await using var hub = await TestHub.StartAsync();
        await hub.PublishManyAsync("e", 3);
        await using var client = await hub.ConnectAsync();
        foreach (var after in new long?[] { null, 0, 2 })
        {
            var error = await Assert.ThrowsAsync<HubInvocationException>(() => client.SubscribeAsync(new SubscribeArgs(["e"], After: after, Epoch: "another-log")));
            Assert.Contains("epoch: 'another-log' is not the epoch of this hub's log", error.Message, StringComparison.Ordinal);
            Assert.Contains("the log was reset", error.Message, StringComparison.Ordinal);
        }

        // A group member is refused the same way, and no group is made.
        var grouped = await Assert.ThrowsAsync<HubInvocationException>(() => client.SubscribeAsync(new SubscribeArgs(["e"], Epoch: "another-log", Group: "g")));
        Assert.Contains("epoch: ", grouped.Message, StringComparison.Ordinal);
        Assert.Empty(await hub.GetSubscriptionsAsync());
        Assert.Empty(await hub.Http.GetFromJsonAsync<JsonElement[]>("api/groups") ?? []);
    }

    [Theory]
    [InlineData("42", "must be null or the epoch string")]
    [InlineData("\"\"", "must be null or the epoch string")]
    [InlineData("[\"x\"]", "must be null or the epoch string")]
    public async Task Subscribe_WithAnEpochThatIsNotAString_FailsNamingEpoch(string epochJson, string expected)
    {
        await using var hub = await TestHub.StartAsync();
        await using var client = await hub.ConnectAsync();
        var request = JsonDocument.Parse($$"""{"topics":["e"],"epoch":{{epochJson}}}""").RootElement;
        var error = await Assert.ThrowsAsync<HubInvocationException>(() => client.InvokeAsync("Subscribe", request));
        Assert.Contains("epoch: " + expected, error.Message, StringComparison.Ordinal);
        Assert.Empty(await hub.GetSubscriptionsAsync());
    }

    [Fact]
    public async Task Read_WithAnotherEpoch_OrAfterBeyondTheHead_Answers409NamingTheField()
    {
        await using var hub = await TestHub.StartAsync();
        await hub.PublishManyAsync("e", 3);
        var epoch = (await ReadAsync(hub.Http, "api/events")).GetProperty("epoch").GetString();

        var (status, problem) = await ProblemAsync(hub.Http, "api/events?after=1&epoch=another-log");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("epoch", problem.GetProperty("field").GetString());
        Assert.StartsWith("epoch: 'another-log' is not the epoch of this hub's log: the log was reset", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal((epoch, 3L), (problem.GetProperty("epoch").GetString(), problem.GetProperty("head").GetInt64()));

        (status, problem) = await ProblemAsync(hub.Http, "api/events?after=4");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("after", problem.GetProperty("field").GetString());
        Assert.StartsWith("after: 4 is beyond the head of this hub's log (3): the log was reset", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // At the head is not beyond it: an empty page that stays there.
        var atHead = await ReadAsync(hub.Http, $"api/events?after=3&epoch={epoch}");
        Assert.Equal(0, atHead.GetProperty("events").GetArrayLength());
        Assert.Equal(3, atHead.GetProperty("next").GetInt64());
    }

    [Fact]
    public async Task ARestartOfTheSameFile_KeepsTheEpoch_AFreshFileHasAnother_AndAnOldPositionIsRefusedThere()
    {
        var settings = new Dictionary<string, string> { ["Hub:Log:Sqlite:Path"] = Path.Combine(_workspace.Directory, "hub.db") };
        var first = await StartAsync(settings);
        string epoch;
        long[] published;
        using (var http = new HttpClient { BaseAddress = first.Address })
        {
            published = [.. (await HubRest.PublishAsync(http, Enumerable.Range(0, 5).Select(i => new { topic = "e", data = i }).ToArray())).Select(e => e.GetProperty("sequence").GetInt64())];
            epoch = (await ReadAsync(http, "api/events")).GetProperty("epoch").GetString()!;
        }

        Assert.True(await first.StopAsync(Deadline), first.Output);
        var second = await StartAsync(settings);
        using (var http = new HttpClient { BaseAddress = second.Address })
        {
            Assert.Equal(epoch, (await ReadAsync(http, "api/events")).GetProperty("epoch").GetString());
            await using var client = await HubClient.ConnectAsync(second.Address);
            var resumed = await client.SubscribeAsync(new SubscribeArgs(["e"], After: published[2], Epoch: epoch));
            await resumed.WaitForCountAsync(2, Deadline);
            Assert.Equal(published[3..], resumed.Sequences);
        }

        // The file is replaced by an empty one under the same path: a new log.
        Assert.True(await second.StopAsync(Deadline), second.Output);
        foreach (var file in Directory.GetFiles(_workspace.Directory, "hub.db*"))
        {
            File.Delete(file);
        }

        var third = await StartAsync(settings);
        using (var http = new HttpClient { BaseAddress = third.Address })
        {
            var fresh = (await ReadAsync(http, "api/events")).GetProperty("epoch").GetString();
            Assert.NotEqual(epoch, fresh);

            await using var client = await HubClient.ConnectAsync(third.Address);
            var byEpoch = await Assert.ThrowsAsync<HubInvocationException>(() => client.SubscribeAsync(new SubscribeArgs(["e"], After: published[^1], Epoch: epoch)));
            Assert.Contains($"epoch: '{epoch}' is not the epoch of this hub's log ('{fresh}'): the log was reset", byEpoch.Message, StringComparison.Ordinal);
            var byAfter = await Assert.ThrowsAsync<HubInvocationException>(() => client.SubscribeAsync(new SubscribeArgs(["e"], After: published[^1])));
            Assert.Contains($"after: {published[^1]} is beyond the head of this hub's log (0, epoch '{fresh}'): the log was reset", byAfter.Message, StringComparison.Ordinal);
            var (status, problem) = await ProblemAsync(http, $"api/events?after={published[^1]}&epoch={epoch}");
            Assert.Equal(HttpStatusCode.Conflict, status);
            Assert.Equal("epoch", problem.GetProperty("field").GetString());

            // What the client does then: subscribe from the start of the new log, with its epoch.
            var restarted = await client.SubscribeAsync(new SubscribeArgs(["e"], After: 0, Epoch: fresh));
            var again = (await HubRest.PublishAsync(http, new[] { new { topic = "e", data = 1 } })).Select(e => e.GetProperty("sequence").GetInt64()).ToArray();
            await restarted.WaitForCountAsync(1, Deadline);
            Assert.Equal([1L], again);
            Assert.Equal(again, restarted.Sequences);
        }
    }

    private async Task<HubProcess> StartAsync(Dictionary<string, string> settings)
    {
        var hub = await _workspace.StartAsync(settings, Deadline);
        return hub;
    }

    private static async Task<JsonElement> ReadAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<(HttpStatusCode Status, JsonElement Problem)> ProblemAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }
}
