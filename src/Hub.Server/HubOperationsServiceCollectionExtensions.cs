using Hub.Server.Health;
using Hub.Server.Publishing;
using Hub.Server.Telemetry;

namespace Hub.Server;

/// <summary>What running the hub beside other services needs: telemetry, readiness of the dispatch loop, and a
/// shutdown that refuses new publishes.</summary>
public static class HubOperationsServiceCollectionExtensions
{
    /// <summary>Adds OpenTelemetry (<see cref="HubTelemetryServiceCollectionExtensions.AddHubTelemetry"/>), the dispatch
    /// readiness check and the shutdown gate for publishes.</summary>
    public static IServiceCollection AddHubOperations(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddHubTelemetry(configuration);
        services.AddHubDispatchHealth();
        services.AddTransient<IStartupFilter, ShutdownPublishGate>();
        return services;
    }
}
