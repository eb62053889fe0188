using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Server.Tests.Infrastructure;

/// <summary>A real hub on Kestrel at 127.0.0.1 on a free port, with settings for one test.</summary>
public sealed class TestHub : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _dataDirectory;

    private TestHub(WebApplication app, Uri address, string dataDirectory)
    {
        _app = app;
        _dataDirectory = dataDirectory;
        Address = address;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>The environment test hubs run in: Development, so credentials are not required unless a test sets
    /// <c>Hub:Auth:Mode</c> (the auth tests do).</summary>
    public const string Environment = "Development";

    /// <summary>The hub's base address, e.g. http://127.0.0.1:41234/.</summary>
    public Uri Address { get; }

    /// <summary>The SQLite file this hub uses when its log kind is SQLite (a fresh temporary file per hub).</summary>
    public string DatabasePath => Path.Combine(_dataDirectory, "hub.db");

    /// <summary>A client for the REST API.</summary>
    public HttpClient Http { get; }

    /// <summary>The hub's services (for looking inside in tests).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// Starts a hub with the default (SQLite) log in a fresh temporary file; <paramref name="settings"/> override
    /// appsettings.json (keys like <c>Hub:Log:Retention:MaxEvents</c>, or <c>Hub:Log:Kind</c> = <c>Memory</c>);
    /// <paramref name="configure"/> may replace services; <paramref name="environment"/> is Development unless a test is about auth.
    /// </summary>
    public static async Task<TestHub> StartAsync(IDictionary<string, string?>? settings = null, Action<WebApplicationBuilder>? configure = null, string environment = Environment)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("hub-test-").FullName;
        // The settings are arguments too: AddHub reads some while it registers services (Hub:Log:Kind picks the engine),
        // before the callback below runs, and the arguments are in the configuration from the start.
        string[] args = ["--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning", "--environment", environment,
            .. (settings ?? new Dictionary<string, string?>()).Where(s => s.Value is not null).Select(s => $"--{s.Key}={s.Value}")];
        var app = HubApplication.Create(args, builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Hub:Log:Sqlite:Path"] = Path.Combine(dataDirectory, "hub.db"),
                // Tests publish in bursts; durability against power loss is not what they check.
                ["Hub:Log:Sqlite:Durability"] = "Process",
            });
            if (settings is not null)
            {
                builder.Configuration.AddInMemoryCollection(settings);
            }

            configure?.Invoke(builder);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new TestHub(app, new Uri(address.EndsWith('/') ? address : address + "/"), dataDirectory);
    }

    /// <summary>Connects a SignalR JSON-protocol client over a real WebSocket.</summary>
    public Task<HubClient> ConnectAsync() => HubClient.ConnectAsync(Address);

    /// <summary>Publishes events (any JSON-serializable shape) and returns the answer's sequences.</summary>
    public async Task<long[]> PublishAsync(object body)
    {
        using var response = await Http.PostAsync("api/events", Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, $"publish answered {(int)response.StatusCode}: {text}");
        using var document = JsonDocument.Parse(text);
        return document.RootElement.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64()).ToArray();
    }

    /// <summary>Publishes <paramref name="count"/> events to <paramref name="topic"/> in one batch.</summary>
    public Task<long[]> PublishManyAsync(string topic, int count, string? type = null, int payloadBytes = 0) =>
        PublishAsync(Enumerable.Range(0, count).Select(i => new { topic, type, data = new { i, pad = new string('x', payloadBytes) } }).ToArray());

    /// <summary>The subscriptions as <c>GET /api/subscriptions</c> shows them.</summary>
    public async Task<JsonElement[]> GetSubscriptionsAsync()
    {
        var list = await Http.GetFromJsonAsync<JsonElement[]>("api/subscriptions");
        return list!;
    }

    /// <summary>One subscription as <c>GET /api/subscriptions</c> shows it.</summary>
    public async Task<JsonElement> GetSubscriptionAsync(string id) =>
        (await GetSubscriptionsAsync()).Single(s => s.GetProperty("id").GetString() == id);

    /// <summary>The log's head as <c>GET /api/topics</c> shows it (the largest lastSequence).</summary>
    public async Task<long> GetHeadAsync()
    {
        var topics = await Http.GetFromJsonAsync<JsonElement[]>("api/topics");
        return topics!.Length == 0 ? 0 : topics.Max(t => t.GetProperty("lastSequence").GetInt64());
    }

    public static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5))) { await _app.StopAsync(timeout.Token); }
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the temp folder is the OS's to clean.
        }
    }
}
