using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests.Telemetry;

/// <summary>
/// A real hub (a child process, so its OpenTelemetry listeners see only its own work) exports by OTLP/HTTP to a tiny
/// receiver on 127.0.0.1: the publish span, the delivery span linked to it through the <c>traceparent</c> that the
/// subscriber also received in the event's headers, logs carrying the trace id, and the <c>Hub</c> meter's and ASP.NET
/// Core's metrics.
/// </summary>
public sealed class OtlpExportTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly string _directory = Directory.CreateTempSubdirectory("hub-otlp-").FullName;
    private OtlpReceiver _receiver = null!;
    private HubProcess _hub = null!;

    public async Task InitializeAsync()
    {
        _receiver = await OtlpReceiver.StartAsync();
        _hub = await HubProcess.StartAsync(_directory, new Dictionary<string, string>
        {
            ["Hub:Log:Kind"] = "Memory",
            ["Hub:Telemetry:Endpoint"] = _receiver.Endpoint.ToString().TrimEnd('/'),
            ["Hub:Telemetry:Protocol"] = "http/protobuf",
            ["Hub:Telemetry:ServiceName"] = "hub-under-test",
            // The standard variables, given as configuration keys: export every 200 ms rather than every 5 s / 60 s.
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "200",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
            // ASP.NET Core's "Request starting/finished" lines, written inside the request's span.
            ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information",
        });
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        await _receiver.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task PublishAndDelivery_ExportSpans_TheDeliveryLinkedToThePublishThroughTheEventsTraceparent()
    {
        await using var client = await HubClient.ConnectAsync(_hub.Address);
        var subscription = await client.SubscribeAsync(new SubscribeArgs(["otel.>"]));
        using var http = new HttpClient { BaseAddress = _hub.Address, Timeout = Deadline };
        await HubRest.PublishAsync(http, new[] { new { topic = "otel.a", data = 1 }, new { topic = "otel.b", data = 2 }, new { topic = "otel.c", data = 3 } });
        await subscription.WaitForCountAsync(3, Deadline);

        // Every event of the request carries the same traceparent: the publish span's.
        var traceparents = subscription.Events.Select(e => e.GetProperty("headers").GetProperty("traceparent").GetString()!).Distinct().ToArray();
        var traceparent = Assert.Single(traceparents);
        var parts = traceparent.Split('-');
        Assert.Equal(4, parts.Length);
        var (traceId, spanId) = (parts[1], parts[2]);

        await Eventually.TrueAsync(() => _receiver.Spans.Any(s => s.Name == "hub publish" && s.SpanId == spanId), "the publish span arrives", Deadline);
        var publish = _receiver.Spans.Single(s => s.Name == "hub publish" && s.SpanId == spanId);
        Assert.Equal(("Hub", traceId, "3"), (publish.Scope, publish.TraceId, publish.Attributes["messaging.batch.message_count"]));
        // It is a child of ASP.NET Core's request span, exported too.
        await Eventually.TrueAsync(() => _receiver.Spans.Any(s => s.Scope == "Microsoft.AspNetCore" && s.SpanId == publish.ParentSpanId), "the request span arrives", Deadline);

        await Eventually.TrueAsync(() => _receiver.Spans.Any(IsDeliveryToThisSubscription), "the delivery span arrives", Deadline);
        var delivery = _receiver.Spans.First(IsDeliveryToThisSubscription);
        Assert.Contains((traceId, spanId), delivery.Links);
        Assert.NotEqual(traceId, delivery.TraceId); // a trace of its own, linked, not a child
        Assert.Equal("3", delivery.Attributes["messaging.batch.message_count"]);
        Assert.Contains("hub-under-test", _receiver.ServiceNames);

        // The logs written while the publish request ran carry its trace id: logs and traces correlate.
        await Eventually.TrueAsync(() => _receiver.Logs.Any(l => l.TraceId == traceId && l.Category.StartsWith("Microsoft.AspNetCore.Hosting", StringComparison.Ordinal)), "the request's logs arrive with its trace id", Deadline);

        bool IsDeliveryToThisSubscription(ReceivedSpan s) =>
            s.Name == "hub deliver" && s.Attributes.TryGetValue("hub.subscription.id", out var id) && id == subscription.Id;
    }

    [Fact]
    public async Task Metrics_OfTheHubMeterAndAspNetCore_ArriveByName()
    {
        await using var client = await HubClient.ConnectAsync(_hub.Address);
        var subscription = await client.SubscribeAsync(new SubscribeArgs(["m.>"]));
        using var http = new HttpClient { BaseAddress = _hub.Address, Timeout = Deadline };
        await HubRest.PublishAsync(http, new[] { new { topic = "m.a", data = 1 } });
        await subscription.WaitForCountAsync(1, Deadline);

        string[] expected =
        [
            "hub.events.published", "hub.events.appended", "hub.events.delivered", "hub.events.dropped",
            "hub.connections", "hub.subscriptions", "hub.subscriptions.lag.total", "hub.subscriptions.lag.max",
            "hub.subscriptions.credits.total", "hub.subscription.lag", "hub.subscription.credits",
            "hub.delivery.latency", "hub.log.events", "hub.log.head",
            "http.server.request.duration", "kestrel.active_connections",
        ];
        await Eventually.TrueAsync(() => expected.All(_receiver.MetricNames.Contains), "every expected metric arrives", Deadline);
    }
}
