using System.Text.Json;
using Hub.Server.Auth;
using Hub.Server.Dashboard;
using Hub.Server.Handlers;
using Hub.Server.Health;
using Hub.Server.Hubs;
using Hub.Server.Limits;
using Hub.Log;
using Hub.Log.Postgres;
using Hub.Log.Sqlite;
using Hub.Server.OpenApi;
using Hub.Server.Publishing;
using Hub.Server.Subscriptions;
using Hub.Server.Telemetry;
using Hub.Protocol;
using MessagePack;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;

namespace Hub.Server;

/// <summary>Wires the hub's services: options, the log, subscriptions, SignalR, OpenAPI and health checks.</summary>
public static class HubServiceCollectionExtensions
{
    /// <summary>
    /// Adds everything the hub needs, configured from <paramref name="configuration"/> (<c>"Hub": {…}</c>), and returns
    /// a builder to add more to it. The app then calls <c>app.UseHub()</c> and <c>app.MapHub()</c>.
    /// </summary>
    public static HubBuilder AddHub(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<EventLogOptions>().Bind(configuration.GetSection(EventLogOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<EventLogOptions>, EventLogOptionsValidator>();
        services.AddSingleton<IValidateOptions<EventLogOptions>>(new RetiredSettings(configuration));
        services.AddOptions<PublishOptions>().Bind(configuration.GetSection(PublishOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<DeliveryOptions>().Bind(configuration.GetSection(DeliveryOptions.Section)).ValidateDataAnnotations().ValidateOnStart();

        services.AddSingleton(TimeProvider.System);
        AddLogEngine(services, configuration[EventLogOptions.KindKey]);
        services.AddSingleton(sp => PublishRequestParser.Create(sp.GetRequiredService<IOptions<PublishOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ISubscriberChannel, SignalRSubscriberChannel>();
        services.AddMetrics();
        services.AddSingleton<HubMetrics>();
        services.AddSingleton<SubscriptionRegistry>();
        services.AddHostedService<DeliveryGauges>();
        services.AddSingleton<DashboardFeed>();
        services.AddHostedService(sp => sp.GetRequiredService<DashboardFeed>());
        services.AddScoped<DeferredStarts>();
        services.AddHostedService<StalledSubscriptionSweeper>();

        services.AddSignalR(o => o.EnableDetailedErrors = false)
            .AddJsonProtocol(o => o.PayloadSerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase)
            .AddMessagePackProtocol();
        // MessagePack carries what JSON does: each value is shaped by the JSON protocol's own options (so the fields and
        // their names are the same), arguments bind as JsonElement (so one parser validates both and names the field),
        // and event batches are written from each envelope's MessagePack bytes, made once per event.
        services.AddOptions<MessagePackHubProtocolOptions>().Configure<IOptions<JsonHubProtocolOptions>>((o, json) =>
            o.SerializerOptions = MessagePackSerializerOptions.Standard
                .WithResolver(new JsonShapedResolver(json.Value.PayloadSerializerOptions, EventBatch.MessagePackResolver))
                .WithSecurity(MessagePackSecurity.UntrustedData));
        // Each events message in one piece, so that it leaves as one WebSocket frame (Hubs/EventsFrameProtocol): SignalR's
        // two protocols wrapped, registered after them under their names, which SignalR's resolver gives to the last one
        // registered (and a later AddJsonProtocol or AddMessagePackProtocol adds nothing: theirs is there already).
        services.AddSingleton<IHubProtocol>(sp => new JsonEventsFrameProtocol(new JsonHubProtocol(sp.GetRequiredService<IOptions<JsonHubProtocolOptions>>())));
        services.AddSingleton<IHubProtocol>(sp => new MessagePackEventsFrameProtocol(new MessagePackHubProtocol(sp.GetRequiredService<IOptions<MessagePackHubProtocolOptions>>())));

        services.AddOptions<CorsSettings>().Bind(configuration.GetSection(CorsSettings.Section));
        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<IOptions<CorsSettings>>((o, settings) => o.AddPolicy(CorsSettings.PolicyName, policy =>
        {
            // SignalR's browser client sends credentials with negotiate, so origins are echoed rather than "*".
            policy.AllowAnyHeader().AllowAnyMethod().AllowCredentials().WithExposedHeaders("Retry-After");
            if (settings.Value.AllowedOrigins is not { Length: > 0 } origins || origins.Contains("*"))
            {
                policy.SetIsOriginAllowed(static _ => true);
            }
            else
            {
                policy.WithOrigins(origins);
            }
        }));

        services.AddProblemDetails();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase);
        services.AddEndpointsApiExplorer();
        services.AddHubOpenApi();
        services.AddHubSecurity(configuration);
        services.AddHubLimits(configuration);
        services.AddHealthChecks()
            .Add(new(EventLogHealthCheck.ReadinessName, sp => new EventLogHealthCheck(sp.GetRequiredService<IEventLog>(), liveness: false), null, ["ready"]))
            .Add(new(EventLogHealthCheck.LivenessName, sp => new EventLogHealthCheck(sp.GetRequiredService<IEventLog>(), liveness: true), null, ["live"]));
        services.AddHubOperations(configuration);
        services.AddHubHandlers();
        return new HubBuilder(services, configuration);
    }

    /// <summary>
    /// Registers the engine <c>Hub:Log:Kind</c> names, through its own extension (as a SignalR backplane is added). A
    /// value none names registers the default, and the options' validation stops the start naming the key.
    /// </summary>
    private static void AddLogEngine(IServiceCollection services, string? kind)
    {
        if (string.Equals(kind, EventLogOptions.KindMemory, StringComparison.OrdinalIgnoreCase))
        {
            services.AddMemoryLog();
        }
        else if (string.Equals(kind, EventLogOptions.KindPostgres, StringComparison.OrdinalIgnoreCase))
        {
            services.AddPostgresLog();
        }
        else
        {
            services.AddSqliteLog();
        }
    }
}
