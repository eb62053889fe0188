using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hub.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Hub.Server.Tests;

/// <summary>
/// Hub as a library (Hub.AspNetCore): an ordinary ASP.NET Core app — not <see cref="HubApplication"/> — that calls
/// <c>AddHub</c>, <c>UseHub</c> and <c>MapHub</c> serves the REST API and the SignalR hub, beside its own endpoints.
/// </summary>
public sealed class LibraryHostingTests
{
    [Fact]
    public async Task APlainApp_WithAddHubUseHubMapHub_PublishesAndDelivers_BesideItsOwnEndpoints()
    {
        var logs = new RecordingLoggerProvider();
        await using var app = await StartPlainAppAsync(logs, useHub: true);
        var address = Address(app);
        using var http = new HttpClient { BaseAddress = address };

        await using var client = await HubClient.ConnectAsync(address);
        var orders = await client.SubscribeAsync(new SubscribeArgs(["orders.>"]));
        using var posted = await http.PostAsJsonAsync("api/events", new[]
        {
            new { topic = "orders.eu.1", type = "created", data = new { n = 1 } },
            new { topic = "other", type = "created", data = new { n = 2 } },
            new { topic = "orders.us.2", type = "shipped", data = new { n = 3 } },
        });
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        var sequences = (await posted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("events").EnumerateArray()
            .Select(e => e.GetProperty("sequence").GetInt64()).ToArray();

        await orders.WaitForCountAsync(2);
        Assert.Equal([sequences[0], sequences[2]], orders.Sequences);
        Assert.Equal(["orders.eu.1", "orders.us.2"], orders.Events.Select(e => e.GetProperty("topic").GetString()));

        // The app's own endpoint still answers, and the hub's middleware ran: a bad publish is problem+json naming the field.
        Assert.Equal("app's own", await http.GetStringAsync("own"));
        using var bad = await http.PostAsJsonAsync("api/events", new { topic = "", data = 1 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        Assert.Contains("topic", (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").EnumerateObject().Select(p => p.Name));
        Assert.DoesNotContain(logs.Entries, e => e.Id.Name == "HubMiddlewareMissing");

        // Hub:Auth:Mode is None (Development): nobody is authenticated, yet an own endpoint that requires a user is still
        // refused, by the hub's scheme (401 problem+json with its Bearer challenge), not let through nor failed with a 500.
        using var refused = await http.GetAsync("own/private");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Bearer", refused.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task MapHub_WithoutUseHub_StillServes_AndWarnsThatTheHubsMiddlewareIsMissing()
    {
        var logs = new RecordingLoggerProvider();
        await using var app = await StartPlainAppAsync(logs, useHub: false);
        using var http = new HttpClient { BaseAddress = Address(app) };

        using var posted = await http.PostAsJsonAsync("api/events", new { topic = "a.b", data = 1 });
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        var warning = Assert.Single(logs.Entries, e => e.Id.Name == "HubMiddlewareMissing");
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("UseHub()", warning.Message, StringComparison.Ordinal);
    }

    private static async Task<WebApplication> StartPlainAppAsync(RecordingLoggerProvider logs, bool useHub)
    {
        var builder = WebApplication.CreateBuilder(["--urls", "http://127.0.0.1:0", "--environment", "Development",
            "--Hub:Log:Kind=Memory", "--Logging:LogLevel:Default=Warning"]);
        builder.Logging.ClearProviders();
        builder.Logging.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoggerProvider>(logs));
        builder.Services.AddHub(builder.Configuration);

        var app = builder.Build();
        if (useHub)
        {
            app.UseHub();
        }

        app.MapGet("/own", () => "app's own");
        app.MapGet("/own/private", () => "for users only").RequireAuthorization();
        app.MapHub();
        await app.StartAsync();
        return app;
    }

    private static Uri Address(WebApplication app)
    {
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new Uri(address.EndsWith('/') ? address : address + "/");
    }

    /// <summary>Keeps every entry of every logger, as <see cref="RecordingLogger{T}"/> does for one.</summary>
    private sealed class RecordingLoggerProvider : ILoggerProvider
    {
        private readonly RecordingLogger<object> _logger = new();

        public System.Collections.Concurrent.ConcurrentQueue<(EventId Id, LogLevel Level, string Message, Exception? Exception)> Entries => _logger.Entries;

        public ILogger CreateLogger(string categoryName) => _logger;

        public void Dispose()
        {
        }
    }
}
