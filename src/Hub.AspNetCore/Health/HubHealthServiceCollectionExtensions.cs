using Hub.Server.Subscriptions;

namespace Hub.Server.Health;

/// <summary>Registers what readiness checks beyond the log: the dispatch loop's heartbeat, and that the hub is not stopping.</summary>
public static class HubHealthServiceCollectionExtensions
{
    /// <summary>Adds the dispatch loop's heartbeat and the readiness checks (tag <c>ready</c>) on it and on stopping.</summary>
    public static IServiceCollection AddHubReadiness(this IServiceCollection services)
    {
        services.AddSingleton<DispatchHeartbeat>();
        services.AddHealthChecks()
            .AddCheck<DispatchHealthCheck>("dispatch", tags: ["ready"])
            .AddCheck<StoppingHealthCheck>("stopping", tags: ["ready"]);
        return services;
    }
}
