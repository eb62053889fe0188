using Hub.Server.Health;
using Hub.Server.Telemetry;
using Microsoft.Extensions.Options;

namespace Hub.Server;

/// <summary>What running the hub beside other services needs: telemetry, readiness of the dispatch loop, and a
/// shutdown that refuses new publishes; and start-up validation of the settings that had none.</summary>
public static class HubOperationsServiceCollectionExtensions
{
    /// <summary>Adds OpenTelemetry (<see cref="HubTelemetryServiceCollectionExtensions.AddHubTelemetry"/>), the dispatch
    /// and stopping readiness checks. (Publishes are refused while stopping by the publish endpoint itself.)</summary>
    public static IServiceCollection AddHubOperations(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddHubTelemetry(configuration);
        services.AddHubReadiness();

        // Every options class stops a bad start naming its key; CORS is bound where its policy is built.
        services.AddOptions<CorsSettings>().ValidateOnStart();
        services.AddSingleton<IValidateOptions<CorsSettings>, CorsSettingsValidator>();
        return services;
    }
}
