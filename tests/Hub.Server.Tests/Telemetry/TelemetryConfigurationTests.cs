using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests.Telemetry;

/// <summary>
/// Telemetry is off without an endpoint (nothing exported, nothing said about it, envelopes as published), and the
/// standard <c>OTEL_*</c> settings alone turn it on (here given as configuration keys, as environment variables are).
/// </summary>
public sealed class TelemetryConfigurationTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly string _directory = Directory.CreateTempSubdirectory("hub-otel-config-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task WithoutAnEndpoint_NothingIsExportedOrLogged_AndEventsCarryNoTraceparent()
    {
        await using var hub = await HubProcess.StartAsync(_directory, new Dictionary<string, string>
        {
            ["Hub:Log:Kind"] = "Memory",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "100",
        });
        await using var client = await HubClient.ConnectAsync(hub.Address);
        var subscription = await client.SubscribeAsync(new SubscribeArgs(["off"]));
        using var http = new HttpClient { BaseAddress = hub.Address, Timeout = Deadline };
        await HubRest.PublishAsync(http, new[] { new { topic = "off", data = 1 } });
        await subscription.WaitForCountAsync(1, Deadline);

        var headers = subscription.Events[0].GetProperty("headers");
        Assert.Equal(System.Text.Json.JsonValueKind.Null, headers.ValueKind);
        Assert.True(await hub.StopAsync(Deadline), hub.Output);
        Assert.DoesNotContain("OpenTelemetry", hub.Output, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("otlp", hub.Output, StringComparison.OrdinalIgnoreCase);
        // No error was logged ("fail:" is the console logger's Error prefix; the word alone may be in a path it prints).
        Assert.DoesNotContain(hub.Output.Split('\n'), line => line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StandardVariablesAlone_TurnExportOn_WithTheirServiceName()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var hub = await HubProcess.StartAsync(_directory, new Dictionary<string, string>
        {
            ["Hub:Log:Kind"] = "Memory",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint.ToString().TrimEnd('/'),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "named-by-otel-service-name",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
        });
        using var http = new HttpClient { BaseAddress = hub.Address, Timeout = Deadline };
        await HubRest.PublishAsync(http, new[] { new { topic = "on", data = 1 } });

        await Eventually.TrueAsync(() => receiver.Spans.Any(s => s.Name == "hub publish"), "the publish span arrives", Deadline);
        Assert.Equal(["named-by-otel-service-name"], receiver.ServiceNames);
    }
}
