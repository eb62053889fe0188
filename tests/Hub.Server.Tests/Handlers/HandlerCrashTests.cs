using System.Text.Json;
using System.Text.RegularExpressions;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests.Handlers;

/// <summary>
/// An in-process handler in a real app process (tests/Hub.HandlerHost: Hub as a library, one handler that records what
/// it completes to a file) killed with SIGKILL mid-stream, then started again on the same SQLite file: it resumes after
/// its saved position, losing nothing, and handles again only events after that position (at least once).
/// </summary>
public sealed partial class HandlerCrashTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly HubWorkspace _workspace = new("hub-handler-crash-");

    private static string HostDll => Path.Combine(AppContext.BaseDirectory, "Hub.HandlerHost.dll");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _workspace.DisposeAsync();

    [Fact]
    public async Task KilledMidStream_ResumesAfterItsSavedPosition_LosingNothing_AndHandlingAgainOnlyWhatCameAfterIt()
    {
        var recordA = Path.Combine(_workspace.Directory, "handled-a.txt");
        var recordB = Path.Combine(_workspace.Directory, "handled-b.txt");

        // A: 4 calls at once (MaxConcurrency 4, batches of 10). The batch holding the "hold" event never completes, so
        // the position stays before it while the batches after it complete.
        var a = await StartAsync(recordA, holdKey: "hold");
        long[] first, second, third;
        using (var http = Http(a))
        {
            first = Sequences(await HubRest.PublishAsync(http, Events(0, 100)));
            await Eventually.TrueAsync(() => Handled(recordA).Count >= first.Length, "A handled the first events");
            await Eventually.TrueAsync(async () => (await HandlerRowAsync(http)).GetProperty("inFlight").GetInt32() == 0, "A completed every call");

            // Then, behind the held event, more that A handles (and will be handled again), and more it may not reach.
            second = Sequences(await HubRest.PublishAsync(http, Events(100, 5).Append(new { topic = "orders.eu", key = "hold", data = new { i = 105 } }).Concat(Events(106, 54)).ToArray()));
            await Eventually.TrueAsync(() => Handled(recordA).Contains(second[^1]), "A handled events after the held one");
            Assert.True((await HandlerRowAsync(http)).GetProperty("inFlight").GetInt32() > 0, "the held batch is in flight");
            third = Sequences(await HubRest.PublishAsync(http, Events(160, 40)));
        }

        await a.KillAsync();
        var handledA = Handled(recordA);
        var held = second[5];
        var published = first.Concat(second).Concat(third).ToArray();

        // B: the same app and file, nothing held. It says where it resumes: its saved position.
        var b = await StartAsync(recordB, holdKey: null);
        var resumed = long.Parse(StartedAfter().Match(b.Output) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException("B did not say where it resumed:\n" + b.Output), System.Globalization.CultureInfo.InvariantCulture);
        var after = published.Where(s => s > resumed).ToArray();
        await Eventually.TrueAsync(() => Handled(recordB).Count >= after.Length, $"B handled the {after.Length} events after {resumed}");
        Assert.True(await b.StopAsync(Deadline), "B did not stop on SIGTERM:\n" + b.Output);
        var handledB = Handled(recordB);

        // The saved position was A's contiguous completed prefix: past every first event (all completed, and saved before
        // the next append was answered), short of the held one (never completed).
        Assert.InRange(resumed, first[^1], held - 1);
        Assert.DoesNotContain(held, handledA);

        // B handled each event after the position exactly once, and none at or before it.
        Assert.Equal(after, handledB.Order());

        // Nothing lost: every published event was handled by A or B. A handled none twice.
        Assert.Equal(published, handledA.Union(handledB).Order());
        Assert.Equal(handledA.Count, handledA.Distinct().Count());

        // Duplicates are exactly A's events after the saved position; the kill came mid-stream, so there were some.
        var duplicates = handledA.Intersect(handledB).Order().ToArray();
        Assert.Equal(handledA.Where(s => s > resumed).Order(), duplicates);
        Assert.Contains(second[^1], duplicates);
    }

    private Task<HubProcess> StartAsync(string record, string? holdKey)
    {
        var settings = new Dictionary<string, string>
        {
            ["Hub:Log:Kind"] = "Sqlite",
            ["Hub:Log:Sqlite:Path"] = _workspace.DatabasePath,
            ["Hub:Auth:Mode"] = "None",
            ["Recorder:Path"] = record,
        };
        if (holdKey is not null)
        {
            settings["Recorder:HoldKey"] = holdKey;
        }

        return _workspace.StartAsync(settings, Deadline, HostDll);
    }

    /// <summary>The sequences the handler recorded, in the order written (complete lines only: a kill may cut the last).</summary>
    private static List<long> Handled(string record)
    {
        if (!File.Exists(record))
        {
            return [];
        }

        string text;
        using (var stream = new FileStream(record, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        using (var reader = new StreamReader(stream))
        {
            text = reader.ReadToEnd();
        }

        var complete = text[..(text.LastIndexOf('\n') + 1)];
        return [.. complete.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(static l => long.Parse(l, System.Globalization.CultureInfo.InvariantCulture))];
    }

    private static async Task<JsonElement> HandlerRowAsync(HttpClient http)
    {
        var rows = await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<JsonElement[]>(http, "api/subscriptions");
        return rows!.Single(static r => r.GetProperty("id").GetString() == "handler:recorder");
    }

    private static HttpClient Http(HubProcess hub) => new() { BaseAddress = hub.Address, Timeout = Deadline };

    private static IEnumerable<object> Events(int from, int count) =>
        Enumerable.Range(from, count).Select(static i => (object)new { topic = "orders.eu", key = $"k{i % 8}", data = new { i } });

    private static long[] Sequences(JsonElement[] published) => [.. published.Select(static e => e.GetProperty("sequence").GetInt64())];

    [GeneratedRegex(@"Handler recorder started after sequence (\d+)")]
    private static partial Regex StartedAfter();
}
