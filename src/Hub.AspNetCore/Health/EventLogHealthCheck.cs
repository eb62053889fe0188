using Hub.Log;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Hub.Server.Health;

/// <summary>
/// The log's health, for readiness (tag <c>ready</c>: it takes appends now) or for liveness (tag <c>live</c>: it can
/// take them again without a restart). A full disk makes the hub not ready; a writer that stopped or a database file
/// deleted under the hub makes it not alive either, so that an orchestrator restarts it.
/// </summary>
internal sealed class EventLogHealthCheck(IEventLog log, bool liveness) : IHealthCheck
{
    /// <summary>The readiness check's name.</summary>
    public const string ReadinessName = "log";

    /// <summary>The liveness check's name.</summary>
    public const string LivenessName = "log-alive";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        LogHealth health;
        try
        {
            health = await log.CheckHealthAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy("the log is not reachable", ex);
        }

        var healthy = health.State == LogState.Writable || (liveness && health.State == LogState.Unwritable);
        return healthy ? HealthCheckResult.Healthy(health.Description) : HealthCheckResult.Unhealthy(health.Description);
    }
}
