using System.Net;
using System.Text.Json;
using Hub.Log;
using Hub.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Hub.Server.Tests;

/// <summary>
/// The hub on <c>"Hub:Log:Kind": "Postgres"</c>, end to end: selected and validated from configuration, publishing,
/// reading and delivering over real sockets, and riding out PostgreSQL going away (503 with Retry-After, readiness 503,
/// recovery by itself). Several nodes as real processes are tested with the multi-node suite.
/// </summary>
public sealed class PostgresHubTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly HubWorkspace _workspace = new("hub-postgres-");
    private PostgresDatabase _database = null!;

    public async Task InitializeAsync() => _database = await PostgresDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        await _workspace.DisposeAsync();
        await _database.DisposeAsync();
    }

    private static Dictionary<string, string?> On(string connectionString) => new()
    {
        ["Hub:Log:Kind"] = "Postgres",
        ["Hub:Log:Postgres:ConnectionString"] = connectionString,
    };

    private static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> PublishAsync(TestHub hub, object body)
    {
        var response = await hub.Http.PostAsync("api/events", TestHub.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone(), response);
    }

    private static async Task<HttpStatusCode> ReadyAsync(TestHub hub)
    {
        using var response = await hub.Http.GetAsync("health/ready");
        return response.StatusCode;
    }

    [Fact]
    public async Task TwoHubsOnOneDatabase_APublishOnOneIsDeliveredByTheOther_AndBothReadOneLog()
    {
        await using var a = await TestHub.StartAsync(On(_database.ConnectionString));
        await using var b = await TestHub.StartAsync(On(_database.ConnectionString));
        await using var subscriber = await b.ConnectAsync();
        var subscription = await subscriber.SubscribeAsync(new { topics = new[] { "orders.>" } });

        Assert.Equal(new[] { 1L, 2L }, await a.PublishAsync(new[] { new { topic = "orders.eu", data = "a1" }, new { topic = "orders.us", data = "a2" } }));
        Assert.Equal(new[] { 3L }, await b.PublishAsync(new { topic = "orders.eu", data = "b1" }));
        await Eventually.TrueAsync(() => subscription.Events.Count == 3, $"the subscriber on b has 3 events (has {subscription.Events.Count})", Deadline);
        Assert.Equal([(1L, "a1"), (2L, "a2"), (3L, "b1")], subscription.Events.Select(e => (e.GetProperty("sequence").GetInt64(), e.GetProperty("data").GetString()!)));

        foreach (var hub in new[] { a, b })
        {
            await Eventually.TrueAsync(async () => (await hub.Http.GetStringAsync("api/topics")).Contains("\"lastSequence\":3", StringComparison.Ordinal), "the topics reach 3", Deadline);
            using var page = JsonDocument.Parse(await hub.Http.GetStringAsync("api/events?after=0"));
            Assert.Equal(["a1", "a2", "b1"], page.RootElement.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("data").GetString()));
            Assert.Equal(HttpStatusCode.OK, await ReadyAsync(hub));
        }

        Assert.Equal(a.Services.GetRequiredService<IEventLog>().Epoch, b.Services.GetRequiredService<IEventLog>().Epoch);
    }

    [Fact]
    public async Task PostgresStopped_PublishAnswers503WithRetryAfter_ReadyTurns503_AndTheHubRecoversByItself()
    {
        await using var cluster = await PostgresCluster.StartOwnAsync();
        var database = await cluster.CreateDatabaseAsync(); // removed with its cluster
        var settings = On(database.ConnectionString);
        settings["Hub:Log:Postgres:TailEvents"] = "16"; // the node keeps the last 16 in memory; older ones are in the database
        await using var hub = await TestHub.StartAsync(settings);
        Assert.Equal(new[] { 1L }, await hub.PublishAsync(new { topic = "a", id = "first" }));
        Assert.Equal(Enumerable.Range(2, 19).Select(i => (long)i), await hub.PublishAsync(Enumerable.Range(2, 19).Select(i => new { topic = "a", data = i }).ToArray()));

        await cluster.StopAsync();

        // A page in the node's memory is still read; one that lies in the database cannot be, and says when to retry.
        using (var recent = await hub.Http.GetAsync("api/events?after=18"))
        {
            Assert.Equal(HttpStatusCode.OK, recent.StatusCode);
        }

        using (var old = await hub.Http.GetAsync("api/events?after=0"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, old.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(2), old.Headers.RetryAfter?.Delta);
        }

        var (status, problem, response) = await PublishAsync(hub, new { topic = "a", data = "while down" });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal(TimeSpan.FromSeconds(2), response.Headers.RetryAfter?.Delta);
        Assert.StartsWith("log: the log cannot be written now", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await ReadyAsync(hub));

        // Back: ready again with no publisher retrying (the probe), then the log goes on after what was acknowledged.
        await cluster.StartAsync();
        await Eventually.TrueAsync(async () => await ReadyAsync(hub) == HttpStatusCode.OK, "ready again by itself", Deadline);
        Assert.Equal(new[] { 1L, 21L }, await hub.PublishAsync(new[] { new { topic = "a", id = "first" }, new { topic = "a", id = "second" } }));
    }

    /// <summary>
    /// The writer stops on an error it does not expect (here: a table of the log dropped under the running hub by another
    /// program): the publish that met it and every later one answer 503 at once, saying a restart is needed; liveness and
    /// readiness answer 503, so an orchestrator restarts the hub; nothing was appended.
    /// </summary>
    [Fact]
    public async Task WriterStopped_ATableDroppedUnderTheHub_PublishesAnswer503AtOnce_AndLiveAndReadyAnswer503()
    {
        await using var hub = await TestHub.StartAsync(On(_database.ConnectionString));
        Assert.Equal(new[] { 1L }, await hub.PublishAsync(new { topic = "a", id = "before" }));
        Assert.Equal(HttpStatusCode.OK, await HealthAsync(hub, "live"));

        await _database.ScalarAsync("DROP TABLE hub_dedup");

        foreach (var id in new[] { "met", "after" })
        {
            var (status, problem, response) = await PublishAsync(hub, new { topic = "a", id }).WaitAsync(Deadline);
            using (response)
            {
                Assert.True(status == HttpStatusCode.ServiceUnavailable, $"{(int)status}: {problem}");
                Assert.Equal(TimeSpan.FromSeconds(2), response.Headers.RetryAfter?.Delta);
                Assert.StartsWith("log: the log cannot be written until the hub restarts: ", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            }
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, await HealthAsync(hub, "live"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await HealthAsync(hub, "ready"));
        Assert.Equal(1L, hub.Services.GetRequiredService<IEventLog>().Head);
        using var page = JsonDocument.Parse(await hub.Http.GetStringAsync("api/events?after=0"));
        Assert.Equal(["before"], page.RootElement.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetString()));
    }

    private static async Task<HttpStatusCode> HealthAsync(TestHub hub, string which)
    {
        using var response = await hub.Http.GetAsync($"health/{which}");
        return response.StatusCode;
    }

    [Fact]
    public async Task KindPostgres_WithoutAConnectionString_OrWithAnUnreachableOne_StopsTheStartNamingTheKey()
    {
        var (exitCode, output) = await HubProcess.RunExpectingExitAsync(_workspace.Directory, new Dictionary<string, string> { ["Hub:Log:Kind"] = "Postgres" }, Deadline);
        Assert.True(exitCode == 2, $"the hub exited with {exitCode}:\n{output}");
        Assert.Equal("Hub cannot start: Hub:Log:Postgres:ConnectionString must name the database when Hub:Log:Kind is 'Postgres'.", LogFailureTests.StartupError(output));

        var unreachable = new NpgsqlConnectionStringBuilder(_database.ConnectionString) { Port = 1, Timeout = 2 }.ConnectionString;
        (exitCode, output) = await HubProcess.RunExpectingExitAsync(_workspace.Directory, new Dictionary<string, string> { ["Hub:Log:Kind"] = "Postgres", ["Hub:Log:Postgres:ConnectionString"] = unreachable }, Deadline);
        Assert.True(exitCode == 2, $"the hub exited with {exitCode}:\n{output}");
        Assert.StartsWith($"Hub cannot start: Hub:Log:Postgres:ConnectionString: cannot use the database 127.0.0.1:1/{_database.Name} as the event log: ", LogFailureTests.StartupError(output), StringComparison.Ordinal);
    }
}
