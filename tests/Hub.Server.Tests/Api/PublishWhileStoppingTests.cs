using System.Net;
using System.Text.Json;
using Hub.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Hub.Server.Tests.Api;

/// <summary>Once the host is stopping, a publish answers 503 problem+json with Retry-After and appends nothing, and
/// readiness answers 503 (liveness stays 200).</summary>
public sealed class PublishWhileStoppingTests
{
    [Fact]
    public async Task Publish_OnceStopping_Answers503WithRetryAfter_AndAppendsNothing_AndTheHubIsNotReady()
    {
        await using var hub = await TestHub.StartAsync(new Dictionary<string, string?> { ["Hub:Log:Kind"] = "Memory" });
        await hub.PublishManyAsync("before", 2);
        Assert.Equal(HttpStatusCode.OK, (await hub.Http.GetAsync("health/ready")).StatusCode);

        hub.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        using var response = await hub.Http.PostAsync("api/events", TestHub.Json(new { topic = "after", data = 1 }));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TimeSpan.FromSeconds(Hub.Server.Api.EventsEndpoints.ShuttingDownRetryAfterSeconds), response.Headers.RetryAfter?.Delta);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(503, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Contains("shutting down", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await hub.Http.GetAsync("health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await hub.Http.GetAsync("health/live")).StatusCode);

        // Reads still answer while stopping; the log holds only what came before.
        Assert.Equal(2, await hub.GetHeadAsync());
        using var page = JsonDocument.Parse(await hub.Http.GetStringAsync("api/events?topic=after"));
        Assert.Equal(0, page.RootElement.GetProperty("events").GetArrayLength());
    }
}
