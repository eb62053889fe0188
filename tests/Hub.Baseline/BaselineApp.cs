using System.Text.Json;
using Microsoft.AspNetCore.SignalR;

namespace Hub.Baseline;

/// <summary>
/// What a user would write instead of Hub: a SignalR hub, and a <c>POST /api/events</c> whose handler sends each posted
/// event to every connection with <c>Clients.All.SendAsync</c>, one call per event, awaited (the common pattern).
/// No log, no demand, no per-subscriber state: the load generator drives it to compare with Hub under the same load.
/// </summary>
public static class BaselineApp
{
    /// <summary>Builds the app; <c>--urls</c> says where it listens (the benchmark script gives 127.0.0.1 and a free port).</summary>
    public static WebApplication Create(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSignalR();

        var app = builder.Build();
        app.MapHub<EventsHub>("/hubs/events");
        app.MapPost("/api/events", async (PublishedEvent[] events, IHubContext<EventsHub> hub) =>
        {
            foreach (var e in events)
            {
                await hub.Clients.All.SendAsync("events", e);
            }

            return Results.Accepted(value: new { count = events.Length });
        });
        return app;
    }
}

/// <summary>An event as posted: the same fields Hub takes, passed on as they came.</summary>
/// <param name="Topic">The topic.</param>
/// <param name="Type">The event type, if any.</param>
/// <param name="Data">The payload, any JSON.</param>
public sealed record PublishedEvent(string Topic, string? Type, JsonElement Data);
