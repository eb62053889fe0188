using System.Net.Http.Json;
using System.Text.Json;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Client.Tests.Infrastructure;

/// <summary>A real hub process (<see cref="HubProcess"/>) on 127.0.0.1 with its SQLite log in a fresh folder, that a test
/// can kill or stop and start again on the same address and the same file; and its REST API for looking inside.</summary>
public sealed class RunningHub : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly string _directory;
    private readonly Dictionary<string, string> _settings;

    private RunningHub(string directory, Dictionary<string, string> settings, HubProcess process)
    {
        _directory = directory;
        _settings = settings;
        Process = process;
        Address = process.Address;
        Http = new HttpClient { BaseAddress = Address, Timeout = Deadline };
    }

    /// <summary>The hub's base address; the same across restarts.</summary>
    public Uri Address { get; }

    /// <summary>The process now running.</summary>
    public HubProcess Process { get; private set; }

    /// <summary>A client for the REST API.</summary>
    public HttpClient Http { get; }

    public static async Task<RunningHub> StartAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        var directory = Directory.CreateTempSubdirectory("hub-client-test-").FullName;
        var all = new Dictionary<string, string>
        {
            ["Hub:Log:Kind"] = "Sqlite",
            ["Hub:Log:Sqlite:Path"] = Path.Combine(directory, "hub.db"),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            all[key] = value;
        }

        var process = await HubProcess.StartAsync(directory, all, Deadline);
        return new RunningHub(directory, all, process);
    }

    /// <summary>Kills the process (SIGKILL, a crash) and starts another on the same address, on the same log or (with
    /// <paramref name="freshLog"/>) on a new, empty file: a log with another epoch, as after a lost volume.</summary>
    public Task KillAndRestartAsync(bool freshLog = false) => RestartAsync(() => Process.KillAsync(), freshLog);

    /// <summary>Stops the process as an orchestrator does (SIGTERM: its subscribers are told <c>ended {reason: "shutdown"}</c>
    /// and their connections closed) and starts another on the same address and the same log.</summary>
    public Task StopAndRestartAsync() => RestartAsync(async () => Assert.True(await Process.StopAsync(Deadline), $"the hub did not stop on SIGTERM:\n{Process.Output}"), freshLog: false);

    private async Task RestartAsync(Func<Task> stop, bool freshLog)
    {
        await stop();
        await Process.DisposeAsync();
        if (freshLog)
        {
            _settings["Hub:Log:Sqlite:Path"] = Path.Combine(_directory, $"hub-{Guid.NewGuid():N}.db");
        }

        var settings = new Dictionary<string, string>(_settings) { ["urls"] = Address.GetLeftPart(UriPartial.Authority) };
        Process = await HubProcess.StartAsync(_directory, settings, Deadline);
        Assert.Equal(Address, Process.Address);
    }

    /// <summary>Publishes <paramref name="count"/> events to <paramref name="topic"/> (batches of 1000); answers their sequences.</summary>
    public async Task<long[]> PublishManyAsync(string topic, int count, int from = 0)
    {
        var sequences = new List<long>(count);
        for (var i = 0; i < count; i += 1000)
        {
            var batch = Enumerable.Range(from + i, Math.Min(1000, count - i)).Select(n => new { topic, type = "t", data = new { n } }).ToArray();
            using var response = await Http.PostAsJsonAsync("api/events", batch);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
            sequences.AddRange(answer.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64()));
        }

        return [.. sequences];
    }

    /// <summary>The live subscriptions as <c>GET /api/subscriptions</c> shows them.</summary>
    public async Task<JsonElement[]> GetSubscriptionsAsync() => (await Http.GetFromJsonAsync<JsonElement[]>("api/subscriptions"))!;

    /// <summary>One subscription by its id on its connection (the one the client chose), or null.</summary>
    public async Task<JsonElement?> FindSubscriptionAsync(string subscriptionId) =>
        (await GetSubscriptionsAsync()).Where(s => s.GetProperty("subscriptionId").GetString() == subscriptionId).Select(s => (JsonElement?)s).SingleOrDefault();

    /// <summary>Ends a subscription with <c>DELETE /api/subscriptions/{id}</c>, found by its id on its connection.</summary>
    public async Task DeleteSubscriptionAsync(string subscriptionId)
    {
        var found = await FindSubscriptionAsync(subscriptionId) ?? throw new InvalidOperationException($"no live subscription '{subscriptionId}'");
        using var response = await Http.DeleteAsync($"api/subscriptions/{found.GetProperty("id").GetString()}");
        Assert.Equal(System.Net.HttpStatusCode.NoContent, response.StatusCode);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Process.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the temp folder is the OS's to clean.
        }
    }
}
