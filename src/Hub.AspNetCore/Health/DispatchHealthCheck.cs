using Hub.Server.Subscriptions;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Hub.Server.Health;

/// <summary>Readiness: the dispatch loop has run within <see cref="DispatchHeartbeat.Patience"/>.</summary>
internal sealed class DispatchHealthCheck(DispatchHeartbeat heartbeat) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var silence = heartbeat.Silence;
        return Task.FromResult(silence <= DispatchHeartbeat.Patience
            ? HealthCheckResult.Healthy($"dispatch loop ran {silence.TotalSeconds:0.#} s ago")
            : HealthCheckResult.Unhealthy($"the dispatch loop has not run for {silence.TotalSeconds:0} s (more than {DispatchHeartbeat.Patience.TotalSeconds:0} s)"));
    }
}
