using Hub.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.LoadGen.Tests;

/// <summary>A server on Kestrel at 127.0.0.1 on a free port: the hub (default SQLite log in a temporary folder) or the
/// baseline app.</summary>
public sealed class RunningServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string? _dataDirectory;

    private RunningServer(WebApplication app, string? dataDirectory)
    {
        _app = app;
        _dataDirectory = dataDirectory;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Address = new Uri(address.TrimEnd('/') + "/");
    }

    public Uri Address { get; }

    public static async Task<RunningServer> StartHubAsync()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("hub-loadgen-test-").FullName;
        // Development: no credentials (Hub:Auth:Mode None), as the baseline has none.
        var app = HubApplication.Create(["--urls", "http://127.0.0.1:0", "--environment", "Development", "--Logging:LogLevel:Default=Warning"], builder =>
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Hub:Log:Sqlite:Path"] = Path.Combine(dataDirectory, "hub.db"),
                ["Hub:Log:Sqlite:Durability"] = "Process",
            }));
        await app.StartAsync();
        return new RunningServer(app, dataDirectory);
    }

    public static async Task<RunningServer> StartBaselineAsync()
    {
        var app = Baseline.BaselineApp.Create(["--urls", "http://127.0.0.1:0"]);
        await app.StartAsync();
        return new RunningServer(app, null);
    }

    public async ValueTask DisposeAsync()
    {
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await _app.StopAsync(timeout.Token);
        }

        await _app.DisposeAsync();
        if (_dataDirectory is not null)
        {
            try
            {
                Directory.Delete(_dataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
