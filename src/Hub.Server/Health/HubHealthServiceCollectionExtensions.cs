namespace Hub.Server.Health;

/// <summary>Registers what readiness checks beyond the log: the dispatch loop's heartbeat.</summary>
public static class HubHealthServiceCollectionExtensions
{
    /// <summary>Adds the dispatch loop's heartbeat and its readiness check (tag <c>ready</c>).</summary>
    public static IServiceCollection AddHubDispatchHealth(this IServiceCollection services)
    {
        services.AddSingleton<DispatchHeartbeat>();
        services.AddHealthChecks().AddCheck<DispatchHealthCheck>("dispatch", tags: ["ready"]);
        return services;
    }
}
