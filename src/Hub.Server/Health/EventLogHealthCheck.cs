using Hub.Server.Log;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Hub.Server.Health;

/// <summary>Readiness: the log can be reached.</summary>
internal sealed class EventLogHealthCheck(IEventLog log) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await log.IsReadyAsync(cancellationToken).ConfigureAwait(false)
                ? HealthCheckResult.Healthy($"log head {log.Head}")
                : HealthCheckResult.Unhealthy("the log is not reachable");
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy("the log is not reachable", ex);
        }
    }
}
