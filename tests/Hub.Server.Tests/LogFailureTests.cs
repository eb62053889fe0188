using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hub.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Hub.Server.Tests;

/// <summary>
/// Failures are loud (issue 13), on a real hub process with a real SQLite file: a writer that stopped, a full disk, a
/// database file deleted or replaced under the running hub, a damaged stored row at start-up. What a publisher sees
/// (503, Retry-After, problem+json), what an orchestrator sees (<c>/health/live</c>, <c>/health/ready</c>), what the log
/// says, and that no 202 is ever given for an event that is not in the log.
/// </summary>
public sealed class LogFailureTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly HubWorkspace _workspace = new("hub-log-failure-");

    private string DatabasePath => _workspace.DatabasePath;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools(); // the test's own connections to the file, before the directory goes
        await _workspace.DisposeAsync();
    }

    /// <summary>
    /// The writer stops on an error it does not expect (here: a table dropped under the running hub by another program):
    /// the publish that met it answers 503, the next ones 503 at once; liveness and readiness answer 503, so an
    /// orchestrator restarts the hub; the log says why, at Critical.
    /// </summary>
    [Fact]
    public async Task WriterStopped_PublishesAnswer503_AndLiveAndReadyAnswer503_AndTheLogSaysWhy()
    {
        var hub = await StartAsync(DatabasePath);
        using var http = Http(hub);
        await HubRest.PublishAsync(http, new[] { new { topic = "a", id = "before" } });
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health/live")).StatusCode);

        using (var other = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString()))
        {
            other.Open();
            using var drop = other.CreateCommand();
            drop.CommandText = "DROP TABLE topics";
            drop.ExecuteNonQuery();
        }

        const string Why = "log: the log cannot be written until the hub restarts: its writer stopped on SqliteException: SQLite Error 1: 'no such table: topics'.; nothing was appended, try again after Retry-After seconds";
        await AssertRefusedAsync(http, "met", Why);
        await AssertRefusedAsync(http, "after", Why);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("health/ready")).StatusCode);
        await SaidAsync(hub, "crit: Hub.Log.Sqlite.SqliteEventLog[3006]");
        await SaidAsync(hub, $"The event log at {DatabasePath} cannot be written until the hub restarts: its writer stopped on SqliteException");
        Assert.Equal(new[] { "before" }, (await HubRest.ReadAllAsync(http)).Select(e => e.GetProperty("id").GetString()));
    }

    /// <summary>
    /// A real full disk (a small tmpfs the test mounts and fills) with no reserve (<c>Hub:Log:Sqlite:ReserveBytes</c> 0) and
    /// nothing for retention to delete: a publish answers 503 with Retry-After and appends nothing (the writer made what
    /// room it could, a checkpoint, and the batch is larger than the write-ahead log it has); the hub is not ready but
    /// alive (a restart would not help); once the room is given back, readiness returns by itself with no publisher
    /// retrying, the refused batch published again appends normally (its ids were not remembered), and everything
    /// acknowledged is there after a restart.
    /// </summary>
    [Fact]
    public async Task DiskFull_Answers503WithRetryAfter_NotReadyButAlive_ThenRecoversByItselfWhenRoomReturns()
    {
        using var disk = SmallDisk.Mount(megabytes: 16);
        var database = Path.Combine(disk.Path, "hub.db");
        var hub = await _workspace.StartAsync(Settings(database, reserveBytes: 0), Deadline);
        using var http = Http(hub);
        var before = await HubRest.PublishAsync(http, Events("before", 3, padding: 0));

        disk.Fill();
        var batch = Events("full", 20, padding: 8192);
        using (var refused = await http.PostAsync("api/events", TestHub.Json(batch)))
        {
            var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(refused.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)refused.StatusCode}: {problem}\n{hub.Output}");
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
            Assert.Equal("The hub cannot write events right now.", problem.GetProperty("title").GetString());
            Assert.StartsWith("log: the log cannot be written now: the disk is full (SQLite Error 13: 'database or disk is full'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health/live")).StatusCode);
        await SaidAsync(hub, "fail: Hub.Log.Sqlite.SqliteEventLog[3002]");

        disk.Free();
        await Eventually.TrueAsync(async () => (await http.GetAsync("health/ready")).StatusCode == HttpStatusCode.OK, "ready again once the disk has room", Deadline);
        await SaidAsync(hub, "info: Hub.Log.Sqlite.SqliteEventLog[3009]");

        var after = await HubRest.PublishAsync(http, batch);
        Assert.Equal(Enumerable.Range(4, 20).Select(i => (long)i), after.Select(e => e.GetProperty("sequence").GetInt64()));
        Assert.All(after, e => Assert.False(e.GetProperty("duplicate").GetBoolean()));

        Assert.True(await hub.StopAsync(Deadline), hub.Output);
        var restarted = await _workspace.StartAsync(Settings(database, reserveBytes: 0), Deadline);
        using var http2 = Http(restarted);
        var expected = before.Concat(after).Select(e => (e.GetProperty("sequence").GetInt64(), e.GetProperty("id").GetString())).ToList();
        Assert.Equal(expected, (await HubRest.ReadAllAsync(http2)).Select(e => (e.GetProperty("sequence").GetInt64(), e.GetProperty("id").GetString())));
        Assert.True(await restarted.StopAsync(Deadline), restarted.Output);
    }

    /// <summary>
    /// Retention can still free room on a disk filled to its last byte. The log holds more than its retention keeps
    /// (<c>MaxEvents</c> 50; the newest pages still in the write-ahead log, beyond the database file's end) when another
    /// program takes every free byte. The first write that finds the disk full makes room: the hub deletes its reserve,
    /// retention deletes, the write-ahead log is checkpointed, and the write is tried again. Publishing goes on with nothing
    /// outside the hub freeing room: three times the reserve's size is accepted after the disk filled, which only the
    /// pages retention freed inside the file can hold. Every event answered 202 has its own sequence, the log holds
    /// exactly the last 50 of them (what retention keeps), and no refused one; once the disk has room again the reserve is
    /// made again, and a restart reads the same.
    /// </summary>
    [Fact]
    public async Task DiskFull_RetentionFreesRoomWithTheReserve_PublishingGoesOnByItself_AndEvery202IsInTheLog()
    {
        const int MaxEvents = 50, ReserveBytes = 2 * 1024 * 1024, Batch = 10, Padding = 2048, Batches = 400;
        using var disk = SmallDisk.Mount(megabytes: 16);
        var database = Path.Combine(disk.Path, "hub.db");
        var reserve = database + "-reserve";
        var settings = Settings(database, ReserveBytes);
        settings["Hub:Log:Retention:MaxEvents"] = $"{MaxEvents}";
        var hub = await _workspace.StartAsync(settings, Deadline);
        using var http = Http(hub);
        await SaidAsync(hub, $"The reserve of {ReserveBytes} bytes that retention uses on a full disk is in place at {reserve}");
        Assert.Equal(ReserveBytes, new FileInfo(reserve).Length);

        var accepted = new List<(long Sequence, string? Id)>();
        for (var b = 0; b < 10; b++)
        {
            accepted.AddRange(Stored(await HubRest.PublishAsync(http, Events($"before{b}", Batch, Padding))));
        }

        disk.Fill();
        var refused = new List<string>();
        var acceptedAfterFill = 0L;
        for (var b = 0; b < Batches; b++)
        {
            using var response = await http.PostAsync("api/events", TestHub.Json(Events($"full{b}", Batch, Padding)));
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                accepted.AddRange(Stored(body.GetProperty("events").EnumerateArray()));
                acceptedAfterFill += Batch * Padding;
                continue;
            }

            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode}: {body}\n{hub.Output}");
            Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
            refused.AddRange(Enumerable.Range(0, Batch).Select(i => $"full{b}-{i}"));
        }

        await SaidAsync(hub, "warn: Hub.Log.Sqlite.SqliteEventLog[3011]");
        var free = new DriveInfo(disk.Path).AvailableFreeSpace;
        Assert.True(free <= ReserveBytes, $"{free} bytes free: more than the reserve gave"); // nobody else gave room back
        Assert.False(File.Exists(reserve));
        Assert.True(acceptedAfterFill >= 3L * ReserveBytes, $"{acceptedAfterFill} bytes accepted after the disk filled, {refused.Count} events refused\n{hub.Output}");
        Assert.True(refused.Count <= Batches * Batch / 10, $"{refused.Count} events refused of {Batches * Batch}\n{hub.Output}");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health/ready")).StatusCode);

        // Each 202 took the next sequence (a refused batch took none), and the log holds exactly the last MaxEvents of them.
        Assert.Equal(Enumerable.Range(1, accepted.Count).Select(i => (long)i), accepted.Select(e => e.Sequence));
        var kept = accepted.TakeLast(MaxEvents).ToList();
        Assert.Equal(kept, Stored(await HubRest.ReadAllAsync(http)));
        Assert.DoesNotContain(kept, e => refused.Contains(e.Id!));

        // Room given back: the reserve is made again.
        disk.Free();
        await Eventually.TrueAsync(() => File.Exists(reserve) && new FileInfo(reserve).Length == ReserveBytes, "the reserve made again once the disk has room", Deadline);
        await Eventually.TrueAsync(() => hub.Output.Split("SqliteEventLog[3012]").Length == 3, "the reserve said in place a second time", Deadline);

        Assert.True(await hub.StopAsync(Deadline), hub.Output);
        var restarted = await _workspace.StartAsync(settings, Deadline);
        using var http2 = Http(restarted);
        Assert.Equal(kept, Stored(await HubRest.ReadAllAsync(http2)));
        Assert.True(await restarted.StopAsync(Deadline), restarted.Output);
    }

    private static IEnumerable<(long Sequence, string? Id)> Stored(IEnumerable<JsonElement> events) =>
        events.Select(e => (e.GetProperty("sequence").GetInt64(), e.GetProperty("id").GetString())).ToList();

    /// <summary>
    /// The database file deleted, or replaced by another database, under the running hub: SQLite would go on writing into
    /// the file it holds open, which nobody will read again; the hub sees the path no longer names that file and never
    /// answers 202 for it. Noticed by the next group commit or by the next health check, whichever comes first.
    /// </summary>
    [Theory]
    [InlineData("deleted", true)]
    [InlineData("replaced", true)]
    [InlineData("deleted", false)]
    public async Task DatabaseFileDeletedOrReplaced_NoPublishIsAcknowledged_AndLiveAndReadyAnswer503(string change, bool publishFirst)
    {
        var hub = await StartAsync(DatabasePath);
        using var http = Http(hub);
        await HubRest.PublishAsync(http, new[] { new { topic = "a", id = "before" } });

        if (change == "deleted")
        {
            File.Delete(DatabasePath);
        }
        else
        {
            var other = Path.Combine(_workspace.Directory, "other.db");
            using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = other, Pooling = false }.ToString()))
            {
                connection.Open();
                using var create = connection.CreateCommand();
                create.CommandText = "CREATE TABLE t (x)";
                create.ExecuteNonQuery();
            }

            File.Move(other, DatabasePath, overwrite: true);
        }

        var why = $"log: the log cannot be written until the hub restarts: the database file was {change}; nothing was appended, try again after Retry-After seconds";
        if (publishFirst)
        {
            await AssertRefusedAsync(http, "first", why);
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("health/ready")).StatusCode);
        await AssertRefusedAsync(http, "later", why);
        await SaidAsync(hub, $"The event log at {DatabasePath} cannot be written until the hub restarts: the database file was {change}");
        Assert.Equal(change == "deleted", !File.Exists(DatabasePath)); // nothing created a new file at the path behind the hub's back
    }

    private const string PublishConsequence = "the hub then forgets that publish was made";
    private const string GroupConsequence = "the group then starts at the head of the log, as a new one";

    /// <summary>A stored dedup row, idempotency answer or group position damaged on disk stops the start: exit code 2, and the message
    /// names the file, the table, the row's key and the column, and what to do.</summary>
    [Theory]
    [InlineData("UPDATE idempotency SET answer = 'not json' WHERE key = 'k1'", "idempotency (subject '', key 'k1'): answer is not JSON of the stored answer ('not json' is an invalid JSON literal. Expected the literal 'null'. Path: $ | LineNumber: 0 | BytePositionInLine: 1.)")]
    [InlineData("UPDATE idempotency SET answer = '[{\"Sequence\":99,\"Topic\":\"b\"}]' WHERE key = 'k1'", "idempotency (subject '', key 'k1'): answer is not a stored answer: event 0 has sequence 99 (the log's are 1..2) and topic 'b'")]
    [InlineData("UPDATE idempotency SET answer = '[{\"sequence\":2,\"topic\":\"b\"}]' WHERE key = 'k1'", "idempotency (subject '', key 'k1'): answer is not a stored answer: event 0 has sequence 0 (the log's are 1..2) and topic ''")]
    [InlineData("UPDATE idempotency SET answer = '[]' WHERE key = 'k1'", "idempotency (subject '', key 'k1'): answer holds no answer (an empty array or null)")]
    [InlineData("UPDATE dedup SET sequence = 'one' WHERE id = 'x'", "dedup (topic 'a', id 'x'): sequence is 'one', not an integer")]
    [InlineData("UPDATE dedup SET sequence = 7 WHERE id = 'x'", "dedup (topic 'a', id 'x'): sequence is 7, outside 1..2")]
    [InlineData("UPDATE dedup SET id = '' WHERE id = 'x'", "dedup (topic 'a', id ''): id is empty")]
    [InlineData("UPDATE idempotency SET time = 'yesterday' WHERE key = 'k1'", "idempotency (subject '', key 'k1'): time is 'yesterday', not an integer")]
    [InlineData("INSERT INTO group_positions (name, identity, acknowledged, handed, gone) VALUES ('billing', 'f00d', 'many', 1, NULL)",
        "group_positions (name 'billing', identity 'f00d'): acknowledged is 'many', not an integer", GroupConsequence)]
    [InlineData("INSERT INTO group_positions (name, identity, acknowledged, handed, gone) VALUES ('billing', 'f00d', 1, -5, NULL)",
        "group_positions (name 'billing', identity 'f00d'): handed is -5, outside 0..9223372036854775807", GroupConsequence)]
    [InlineData("INSERT INTO group_positions (name, identity, acknowledged, handed, gone) VALUES ('billing', '', 1, 1, NULL)",
        "group_positions (name 'billing', identity ''): identity is empty", GroupConsequence)]
    public async Task DamagedStoredRow_StopsTheStartWithExitCode2_NamingTheTableTheKeyAndTheColumn(string damage, string what, string consequence = PublishConsequence)
    {
        var hub = await StartAsync(DatabasePath);
        using (var http = Http(hub))
        {
            await HubRest.PublishAsync(http, new[] { new { topic = "a", id = "x" } });
            using var keyed = new HttpRequestMessage(HttpMethod.Post, "api/events") { Content = TestHub.Json(new { topic = "b" }) };
            keyed.Headers.Add("Idempotency-Key", "k1");
            Assert.Equal(HttpStatusCode.Accepted, (await http.SendAsync(keyed)).StatusCode);
        }

        Assert.True(await hub.StopAsync(Deadline), hub.Output);
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString()))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = damage;
            Assert.Equal(1, command.ExecuteNonQuery());
        }

        var (exitCode, output) = await HubProcess.RunExpectingExitAsync(_workspace.Directory, Settings(DatabasePath), Deadline);
        Assert.True(exitCode == 2, $"the hub exited with {exitCode}:\n{output}");
        var expected = $"Hub cannot start: Hub:Log:Sqlite:Path: the event log '{DatabasePath}' has a damaged row in table {what}. " +
            $"Restore the file from a backup, or delete that row ({consequence}) and start again.";
        Assert.Equal(expected, StartupError(output));
    }

    /// <summary>Waits until the hub has written <paramref name="text"/> (its console logger writes, and the pipe is read,
    /// after the moment the test observed).</summary>
    private static Task SaidAsync(HubProcess hub, string text) =>
        Eventually.TrueAsync(() => hub.Output.Contains(text, StringComparison.Ordinal), $"the hub writes \"{text}\"", Deadline);

    /// <summary>The line the hub wrote when it refused to start.</summary>
    internal static string StartupError(string output) =>
        Assert.Single(output.Split('\n').Select(l => l.TrimEnd('\r')), l => l.StartsWith("Hub cannot start: ", StringComparison.Ordinal));

    private static async Task AssertRefusedAsync(HttpClient http, string id, string detail)
    {
        using var response = await http.PostAsync("api/events", TestHub.Json(new[] { new { topic = "a", id } }));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode}: {body}");
        Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal("The hub cannot write events right now.", problem.GetProperty("title").GetString());
        Assert.Equal(detail, problem.GetProperty("detail").GetString());
    }

    private static object[] Events(string prefix, int count, int padding) =>
        Enumerable.Range(0, count).Select(i => (object)new { topic = "t", id = $"{prefix}-{i}", data = new string('x', padding) }).ToArray();

    private static Dictionary<string, string> Settings(string path, int? reserveBytes = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["Hub:Log:Kind"] = "Sqlite",
            ["Hub:Log:Sqlite:Path"] = path,
        };
        if (reserveBytes is { } bytes)
        {
            settings["Hub:Log:Sqlite:ReserveBytes"] = $"{bytes}";
        }

        return settings;
    }

    private async Task<HubProcess> StartAsync(string path)
    {
        var hub = await _workspace.StartAsync(Settings(path), Deadline);
        return hub;
    }

    private static HttpClient Http(HubProcess hub) => new() { BaseAddress = hub.Address, Timeout = Deadline };
}
