using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Hub.Server.Health;

/// <summary>
/// Readiness: the hub is not stopping. From SIGTERM on it refuses publishes (503), so a load balancer asking
/// <c>/health/ready</c> is told to send them elsewhere while the hub drains.
/// </summary>
internal sealed class StoppingHealthCheck(IHostApplicationLifetime lifetime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested
            ? HealthCheckResult.Unhealthy("the hub is stopping")
            : HealthCheckResult.Healthy("running"));
}
