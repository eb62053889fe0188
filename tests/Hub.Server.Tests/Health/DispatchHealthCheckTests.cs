using System.Net;
using Hub.Server.Health;
using Hub.Server.Subscriptions;
using Hub.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Hub.Server.Tests.Health;

/// <summary>Readiness includes the dispatch loop: ready while it runs, 503 once it has been silent past its patience.</summary>
public sealed class DispatchHealthCheckTests
{
    [Fact]
    public async Task Check_IsHealthyWhileTheLoopBeats_AndUnhealthyOnceSilentPastThePatience()
    {
        var time = new ManualTimeProvider();
        var heartbeat = new DispatchHeartbeat(time);
        var check = new DispatchHealthCheck(heartbeat);

        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);
        time.Advance(DispatchHeartbeat.Patience);
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);
        time.Advance(TimeSpan.FromSeconds(1));
        var silent = await check.CheckHealthAsync(new HealthCheckContext());
        Assert.Equal(HealthStatus.Unhealthy, silent.Status);
        Assert.Contains("dispatch loop", silent.Description, StringComparison.Ordinal);
        heartbeat.Beat();
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);
    }

    [Fact]
    public async Task Ready_Answers503_WhenTheDispatchLoopHasStopped_WhileLiveStays200()
    {
        var time = new ManualTimeProvider();
        await using var hub = await TestHub.StartAsync(
            new Dictionary<string, string?> { ["Hub:Log:Kind"] = "Memory" },
            builder => builder.Services.AddSingleton(new DispatchHeartbeat(time)));

        // The loop beats with the test's clock: still ready after more than the patience, since it keeps running.
        time.Advance(DispatchHeartbeat.Patience + TimeSpan.FromSeconds(5));
        var heartbeat = hub.Services.GetRequiredService<DispatchHeartbeat>();
        await Eventually.TrueAsync(() => heartbeat.Silence <= DispatchHeartbeat.Patience, "the sweeper beat");
        Assert.Equal(HttpStatusCode.OK, (await hub.Http.GetAsync("health/ready")).StatusCode);

        // The loop stops (as if it had died): once its silence passes the patience, the hub is not ready.
        var sweeper = hub.Services.GetServices<IHostedService>().OfType<StalledSubscriptionSweeper>().Single();
        await sweeper.StopAsync(CancellationToken.None);
        time.Advance(DispatchHeartbeat.Patience + TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await hub.Http.GetAsync("health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await hub.Http.GetAsync("health/live")).StatusCode);
    }
}
