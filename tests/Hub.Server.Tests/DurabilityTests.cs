extern alias client;

using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using client::Hub.Client;
using Hub.Server.Tests.Infrastructure;
using HubClient = Hub.Server.Tests.Infrastructure.HubClient;

namespace Hub.Server.Tests;

/// <summary>
/// The durable log (issue 3) through the hub's own front doors, most of it on a real child process that the test stops
/// (SIGTERM), kills (SIGKILL) and starts again on the same database file: what a publisher was told is accepted is
/// there after a crash, exactly once; a subscriber resumes with <c>after</c> across restarts with no gap and no repeat;
/// a bad database path or file stops the start with a message naming the path and the setting.
/// </summary>
public sealed class DurabilityTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly HubWorkspace _workspace = new("hub-durability-");

    private string DatabasePath => _workspace.DatabasePath;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _workspace.DisposeAsync();

    [Fact]
    public async Task Restart_ThenResumeWithAfter_LosesNothingAndRepeatsNothing()
    {
        var first = await StartSqliteAsync();
        long[] before;
        long lastSeen;
        string epoch;
        using (var http = Http(first))
        {
            before = Sequences(await HubRest.PublishAsync(http, Events("r", from: 0, count: 10)));
            // A .NET client that takes six events and stops: where it stopped is what it keeps (sequence and epoch).
            await using var client = new client::Hub.Client.HubClient(first.Address);
            await using var subscription = await client.OpenAsync(new SubscribeRequest("r") { After = 0, MaxDemand = 6, Demand = DemandMode.Manual });
            subscription.Ask(6);
            var taken = new List<long>();
            using var timeout = new CancellationTokenSource(Deadline);
            await foreach (var e in subscription.ReadAsync(timeout.Token))
            {
                taken.Add(e.Sequence);
                if (taken.Count == 6)
                {
                    break;
                }
            }

            Assert.Equal(before.Take(6), taken);
            Assert.Equal(0, subscription.Overdrafts);
            lastSeen = subscription.LastSequence!.Value;
            epoch = subscription.Epoch!;
        }

        Assert.True(await first.StopAsync(Deadline), $"the hub did not stop on SIGTERM within {Deadline}:\n{first.Output}");
        Assert.True(first.ExitCode == 0, $"the hub exited with {first.ExitCode} on SIGTERM:\n{first.Output}");

        var second = await StartSqliteAsync();
        using var http2 = Http(second);
        var after = Sequences(await HubRest.PublishAsync(http2, Events("r", from: 10, count: 5)));
        Assert.True(after.Min() > before.Max(), $"sequences were reused after the restart: {string.Join(',', before)} then {string.Join(',', after)}");

        // Another client, in what could be another process, resumes after what was taken, in the same log (its epoch).
        await using var resumedClient = new client::Hub.Client.HubClient(second.Address);
        await using var rest = await ClientSubscription.OpenAsync(resumedClient, new SubscribeRequest("r") { After = lastSeen, Epoch = epoch });
        var expected = before.Skip(6).Concat(after).ToList();
        await rest.WaitForCountAsync(expected.Count, Deadline);

        // A last event proves nothing else was on its way before it.
        var marker = Sequences(await HubRest.PublishAsync(http2, new[] { new { topic = "r", id = "r-marker", data = new { i = -1 } } }));
        await rest.WaitForCountAsync(expected.Count + 1, Deadline);
        Assert.Equal(expected.Append(marker[0]), rest.Sequences);
        Assert.Equal(Enumerable.Range(6, 9).Append(-1), rest.Events.Select(e => e.Data.GetProperty("i").GetInt32()));
        Assert.Equal(rest.Events.Count, rest.Messages.Count); // no gap, no reset
        Assert.Equal(epoch, rest.Subscription.Epoch);
        rest.AssertTheHubKeptToTheProtocol();
    }

    /// <summary>
    /// SIGKILL while publishers run, in both <c>Hub:Log:Sqlite:Durability</c> modes: <c>Flush</c> (fsync per group
    /// commit) and <c>Process</c> (the WAL written without fsync, which a killed process does not lose: the kernel
    /// holds the pages); after a restart every 202 is there, once.
    /// </summary>
    [Theory]
    [InlineData(1, "Flush")]
    [InlineData(2, "Flush")]
    [InlineData(3, "Flush")]
    [InlineData(1, "Process")]
    [InlineData(2, "Process")]
    public Task Crash_DuringAPublishStream_KeepsEveryAcceptedEvent(int seed, string durability) =>
        StopDuringAPublishStreamAsync(seed, graceful: false, durability);

    /// <summary>
    /// SIGTERM while publishers run: the hub finishes and flushes the publishes it acknowledged and exits 0; every publish
    /// it answered was either accepted or refused with 503 and <c>Retry-After: 5</c> (how many reach it while it stops
    /// depends on timing; that a publish is refused from the moment it starts stopping is
    /// <c>PublishWhileStoppingTests</c>'s); after a restart every 202 is there, once, and nothing refused is.
    /// </summary>
    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    public Task Sigterm_DuringAPublishStream_KeepsEveryAcceptedEvent_AndAnswersOnly202Or503WithRetryAfter(int seed) => StopDuringAPublishStreamAsync(seed, graceful: true);

    private async Task StopDuringAPublishStreamAsync(int seed, bool graceful, string durability = "Flush")
    {
        const int publishers = 4, maxBatchesEach = 2000;
        var killAfterAcceptedBatches = 10 + (seed * 7);
        var first = await StartSqliteAsync(durability);
        var accepted = new ConcurrentDictionary<string, long>(); // "topic/id" → the sequence the 202 answered
        var acceptedEvents = new ConcurrentBag<object>();
        var rejected = new ConcurrentBag<string>();              // answered but not 202: must not be in the log
        var answeredAs = new ConcurrentDictionary<string, int>(); // how publishes were answered ("202", "503 Retry-After 5"): how many
        var inDoubt = new ConcurrentBag<string[]>();             // no answer (the process died): all or nothing
        var attempted = new ConcurrentDictionary<string, bool>();
        var acceptedBatches = 0;
        var stopAt = DateTime.UtcNow + Deadline;

        using (var http = Http(first))
        {
            var publishing = Enumerable.Range(0, publishers).Select(w => Task.Run(async () =>
            {
                var random = new Random((seed * 100) + w);
                for (var b = 0; b < maxBatchesEach && DateTime.UtcNow < stopAt; b++)
                {
                    var batch = Enumerable.Range(0, random.Next(1, 6))
                        .Select(i => new { topic = $"crash.w{w}", id = $"s{seed}-w{w}-b{b}-i{i}", data = new { w, b, i } })
                        .ToArray();
                    var keys = batch.Select(e => $"{e.topic}/{e.id}").ToArray();
                    foreach (var key in keys)
                    {
                        attempted[key] = true;
                    }

                    HttpResponseMessage response;
                    try
                    {
                        response = await http.PostAsync("api/events", TestHub.Json(batch));
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                        inDoubt.Add(keys);
                        return;
                    }

                    using (response)
                    {
                        if (response.StatusCode != HttpStatusCode.Accepted)
                        {
                            answeredAs.AddOrUpdate($"{(int)response.StatusCode} Retry-After {response.Headers.RetryAfter?.Delta?.TotalSeconds}", 1, (_, n) => n + 1);
                            foreach (var key in keys)
                            {
                                rejected.Add(key);
                            }

                            continue;
                        }

                        JsonElement body;
                        try
                        {
                            body = await response.Content.ReadFromJsonAsync<JsonElement>();
                        }
                        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException or JsonException)
                        {
                            inDoubt.Add(keys); // 202 but the body was cut off: the publisher cannot know
                            return;
                        }

                        var answered = body.GetProperty("events").EnumerateArray().ToArray();
                        Assert.Equal(keys.Length, answered.Length);
                        for (var i = 0; i < keys.Length; i++)
                        {
                            Assert.False(answered[i].GetProperty("duplicate").GetBoolean(), $"{keys[i]} was new but answered duplicate");
                            accepted[keys[i]] = answered[i].GetProperty("sequence").GetInt64();
                            acceptedEvents.Add(batch[i]);
                        }

                        answeredAs.AddOrUpdate("202", 1, (_, n) => n + 1);
                        Interlocked.Increment(ref acceptedBatches);
                    }
                }
            })).ToArray();

            await Eventually.TrueAsync(
                () => Volatile.Read(ref acceptedBatches) >= killAfterAcceptedBatches || publishing.All(p => p.IsCompleted),
                $"{killAfterAcceptedBatches} batches accepted",
                Deadline);
            Assert.True(Volatile.Read(ref acceptedBatches) >= killAfterAcceptedBatches, $"the publishers stopped before the crash:\n{first.Output}");
            if (graceful)
            {
                Assert.True(await first.StopAsync(Deadline), $"the hub did not stop on SIGTERM within {Deadline}:\n{first.Output}");
                Assert.True(first.ExitCode == 0, $"the hub exited with {first.ExitCode} on SIGTERM:\n{first.Output}");
            }
            else
            {
                await first.KillAsync();
            }

            await Task.WhenAll(publishing).WaitAsync(Deadline);
        }

        // Every publish answered was accepted, or (once the hub was stopping) refused as "shutting down, come back later".
        Assert.Contains("202", answeredAs.Keys);
        Assert.Subset(graceful ? new HashSet<string> { "202", "503 Retry-After 5" } : ["202"], answeredAs.Keys.ToHashSet());

        var second = await StartSqliteAsync(durability);
        using var http2 = Http(second);
        var log = await HubRest.ReadAllAsync(http2);
        var inLog = log.Select(e => (Key: $"{e.GetProperty("topic").GetString()}/{e.GetProperty("id").GetString()}", Sequence: e.GetProperty("sequence").GetInt64())).ToList();

        var sequences = inLog.Select(e => e.Sequence).ToList();
        Assert.True(sequences.Zip(sequences.Skip(1)).All(p => p.First < p.Second), "sequences are not strictly increasing: " + string.Join(',', sequences));
        var repeated = inLog.GroupBy(e => e.Key).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(repeated.Count == 0, "events stored more than once: " + string.Join(", ", repeated));
        var bySequence = inLog.ToDictionary(e => e.Key, e => e.Sequence);
        Assert.DoesNotContain(bySequence.Keys, key => !attempted.ContainsKey(key)); // nothing is in the log that was never published

        var lost = accepted.Where(a => !bySequence.TryGetValue(a.Key, out var s) || s != a.Value).Select(a => $"{a.Key}@{a.Value}").ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} of {accepted.Count} accepted events are missing or moved after the crash: {string.Join(", ", lost.Take(20))}");
        Assert.DoesNotContain(rejected, bySequence.ContainsKey); // nothing refused is in the log
        foreach (var batch in inDoubt)
        {
            var present = batch.Count(bySequence.ContainsKey);
            Assert.True(present == 0 || present == batch.Length, $"a batch in flight at the crash is half there: {present} of {string.Join(", ", batch)}");
        }

        // A subscriber replaying from the start sees the same log, in order, once.
        await using (var client = await HubClient.ConnectAsync(second.Address))
        {
            var replay = await client.SubscribeAsync(new SubscribeArgs(["crash.>"], After: 0, MaxDemand: 500), (s, count) => _ = client.AskAsync(s, count));
            await replay.WaitForCountAsync(inLog.Count, Deadline);
            Assert.Empty(replay.Violations);
            Assert.Empty(replay.Gaps);
            Assert.Equal(sequences, replay.Sequences.Take(inLog.Count));
        }

        // Dedup survived the crash: every accepted event published again answers its first sequence and appends nothing.
        var head = sequences.Count == 0 ? 0 : sequences[^1];
        foreach (var chunk in acceptedEvents.Chunk(500))
        {
            var answers = await HubRest.PublishAsync(http2, chunk);
            foreach (var answer in answers)
            {
                var key = $"{answer.GetProperty("topic").GetString()}/{answer.GetProperty("id").GetString()}";
                Assert.True(answer.GetProperty("duplicate").GetBoolean(), $"{key} published again was appended again");
                Assert.Equal(accepted[key], answer.GetProperty("sequence").GetInt64());
            }
        }

        var afterRepublish = await HubRest.ReadAllAsync(http2);
        Assert.Equal(inLog.Count, afterRepublish.Count);
        Assert.Equal(head, afterRepublish.Count == 0 ? 0 : afterRepublish[^1].GetProperty("sequence").GetInt64());
    }

    [Fact]
    public async Task RelativeDatabasePath_IsUnderTheContentRoot_NotTheWorkingDirectory()
    {
        var relative = Path.Combine("durability-" + Guid.NewGuid().ToString("N"), "hub.db");
        var underContentRoot = Path.Combine(AppContext.BaseDirectory, relative);
        try
        {
            var first = await StartAsync(SqliteSettings(relative));
            using (var http = Http(first))
            {
                await HubRest.PublishAsync(http, Events("p", from: 0, count: 1));
            }

            Assert.True(await first.StopAsync(Deadline), first.Output);
            Assert.True(File.Exists(underContentRoot), $"no database at {underContentRoot}:\n{first.Output}");
            Assert.False(File.Exists(Path.Combine(_workspace.Directory, relative)), "the database was made under the working directory");

            var second = await StartAsync(SqliteSettings(relative));
            using var http2 = Http(second);
            Assert.Single(await HubRest.ReadAllAsync(http2));
            await second.StopAsync(Deadline);
        }
        finally
        {
            DeleteUnderContentRoot(Path.GetDirectoryName(relative)!);
        }
    }

    /// <summary>Nothing about the log configured: it is SQLite, in <c>data/hub.db</c> under the content root (the
    /// binaries' folder), and what was published is there after a restart.</summary>
    [Fact]
    public async Task DefaultSettings_KeepTheLogInDataHubDbUnderTheContentRoot_AcrossARestart()
    {
        var database = Path.Combine(AppContext.BaseDirectory, "data", "hub.db");
        DeleteUnderContentRoot("data");
        try
        {
            var first = await StartAsync([]);
            long[] published;
            using (var http = Http(first))
            {
                published = Sequences(await HubRest.PublishAsync(http, Events("d", from: 0, count: 3)));
            }

            Assert.True(await first.StopAsync(Deadline), first.Output);
            Assert.True(File.Exists(database), $"no database at {database}:\n{first.Output}");

            var second = await StartAsync([]);
            using var http2 = Http(second);
            Assert.Equal(published, (await HubRest.ReadAllAsync(http2)).Select(e => e.GetProperty("sequence").GetInt64()));
            await second.StopAsync(Deadline);
        }
        finally
        {
            DeleteUnderContentRoot("data");
        }
    }

    [Theory]
    [InlineData("under-a-regular-file")]
    [InlineData("under-proc")]
    public async Task UnwritableDatabasePath_StopsStartupWithExitCode2AndAMessageNamingThePathAndTheSetting(string where)
    {
        string path, why;
        if (where == "under-proc")
        {
            path = "/proc/hub/hub.db";
            why = "Could not find file '/proc/hub'.";
        }
        else
        {
            var file = Path.Combine(_workspace.Directory, "a-file");
            await File.WriteAllTextAsync(file, "not a directory");
            path = Path.Combine(file, "hub.db");
            why = $"The file '{file}' already exists.";
        }

        var (exitCode, output) = await HubProcess.RunExpectingExitAsync(_workspace.Directory, SqliteSettings(path), Deadline);
        Assert.True(exitCode == 2, $"the hub exited with {exitCode}:\n{output}");
        Assert.Equal(
            $"Hub cannot start: Hub:Log:Sqlite:Path: cannot use '{path}' as the event log: {why} (set Hub:Log:Sqlite:Path to a writable file, or Hub:Log:Kind to Memory)",
            LogFailureTests.StartupError(output));
    }

    [Fact]
    public async Task CorruptDatabaseFile_StopsStartupWithExitCode2AndAMessageNamingThePathAndTheSetting()
    {
        var garbage = new byte[16 * 1024];
        new Random(42).NextBytes(garbage);
        await File.WriteAllBytesAsync(DatabasePath, garbage);

        var (exitCode, output) = await HubProcess.RunExpectingExitAsync(_workspace.Directory, SqliteSettings(DatabasePath), Deadline);
        Assert.True(exitCode == 2, $"the hub exited with {exitCode}:\n{output}");
        Assert.Equal(
            $"Hub cannot start: Hub:Log:Sqlite:Path: cannot use '{DatabasePath}' as the event log: SQLite Error 26: 'file is not a database'. (set Hub:Log:Sqlite:Path to a writable file, or Hub:Log:Kind to Memory)",
            LogFailureTests.StartupError(output));
        Assert.Equal(garbage, await File.ReadAllBytesAsync(DatabasePath)); // the hub did not "repair" the file by replacing it
    }

    [Fact]
    public async Task UnknownLogKind_StopsStartupWithExitCode2AndAMessageNamingTheSetting()
    {
        var (exitCode, output) = await HubProcess.RunExpectingExitAsync(_workspace.Directory, new Dictionary<string, string> { ["Hub:Log:Kind"] = "Floppy" }, Deadline);
        Assert.True(exitCode == 2, $"the hub exited with {exitCode}:\n{output}");
        Assert.Equal("Hub cannot start: Kind: Hub:Log:Kind must be 'Sqlite', 'Memory' or 'Postgres'.", LogFailureTests.StartupError(output));
    }

    /// <summary>
    /// SIGTERM (docker stop, systemd) stops the hub by itself, with exit code 0, closing its clients' connections: the
    /// durable log has flushed and closed its file in time, and each subscriber is first told <c>ended</c> with reason
    /// <c>shutdown</c>, then gets a close message that allows its client to reconnect.
    /// </summary>
    [Theory]
    [InlineData("Memory")]
    [InlineData("Sqlite")]
    public async Task GracefulStop_ExitsZeroByItself_TellsSubscribers_AndClosesClientConnections(string kind)
    {
        var hub = await StartAsync(kind == "Sqlite" ? SqliteSettings(DatabasePath) : new Dictionary<string, string> { ["Hub:Log:Kind"] = kind });
        using (var http = Http(hub))
        {
            await HubRest.PublishAsync(http, Events("g", from: 0, count: 3));
        }

        await using var client = await HubClient.ConnectAsync(hub.Address);
        var subscription = await client.SubscribeAsync(new SubscribeArgs([">"], After: 0));
        await subscription.WaitForCountAsync(3, Deadline);
        Assert.True(await hub.StopAsync(Deadline), $"the hub did not stop on SIGTERM within {Deadline}:\n{hub.Output}");
        Assert.True(hub.ExitCode == 0, $"the hub exited with {hub.ExitCode} on SIGTERM:\n{hub.Output}");
        await client.Closed.WaitAsync(Deadline);
        Assert.Equal("shutdown", subscription.EndedReason); // told why, before the connection closed
        Assert.True(client.CloseAllowsReconnect, $"the hub's close message did not allow a reconnect ({client.CloseAllowsReconnect?.ToString() ?? "none came"})");
        Assert.Null(client.CloseError);
    }

    [Theory]
    [InlineData("Memory")]
    [InlineData("Sqlite")]
    public async Task FarBehindSubscriber_CatchesUp_ThenFollowsTheLiveTail_WithNoGapAndNoDuplicate(string kind)
    {
        var settings = new Dictionary<string, string?> { ["Hub:Log:Kind"] = kind };
        if (kind == "Sqlite")
        {
            // A memory tail of 1,000 of the 12,000 events: the subscriber reads most of them from the file first.
            settings["Hub:Log:Sqlite:Path"] = DatabasePath;
            settings["Hub:Log:Sqlite:TailEvents"] = "1000";
        }

        await using var hub = await TestHub.StartAsync(settings);
        var published = new List<long>();
        for (var b = 0; b < 20; b++)
        {
            published.AddRange(await hub.PublishManyAsync("far", 500, payloadBytes: 64));
        }

        await using var client = hub.NewClient();
        await using var subscription = await ClientSubscription.OpenAsync(client, new SubscribeRequest("far") { After = 0, MaxDemand = 1000 });

        // While it catches up, more arrive: it must pass from the old part of the log to the new without a seam.
        for (var b = 0; b < 20; b++)
        {
            published.AddRange(await hub.PublishManyAsync("far", 100, payloadBytes: 64));
        }

        await subscription.WaitForCountAsync(published.Count, Deadline);
        subscription.AssertTheHubKeptToTheProtocol();
        Assert.Equal(published, subscription.Sequences);
        Assert.Equal(published.Count, subscription.Messages.Count); // no gap
    }

    private static Dictionary<string, string> SqliteSettings(string path, string durability = "Flush") => new()
    {
        ["Hub:Log:Kind"] = "Sqlite",
        ["Hub:Log:Sqlite:Path"] = path,
        ["Hub:Log:Sqlite:Durability"] = durability,
    };

    private Task<HubProcess> StartSqliteAsync(string durability = "Flush") => StartAsync(SqliteSettings(DatabasePath, durability));

    private async Task<HubProcess> StartAsync(Dictionary<string, string> settings)
    {
        var hub = await _workspace.StartAsync(settings, Deadline);
        return hub;
    }

    private static void DeleteUnderContentRoot(string relativeDirectory)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, relativeDirectory);
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static HttpClient Http(HubProcess hub) => new() { BaseAddress = hub.Address, Timeout = Deadline };

    private static object[] Events(string topic, int from, int count) =>
        Enumerable.Range(from, count).Select(i => (object)new { topic, id = $"{topic}-{i}", data = new { i } }).ToArray();

    private static long[] Sequences(JsonElement[] published) => published.Select(e => e.GetProperty("sequence").GetInt64()).ToArray();
}
