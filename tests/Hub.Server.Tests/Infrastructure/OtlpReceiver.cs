using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Server.Tests.Infrastructure.ProtoWire;

namespace Hub.Server.Tests.Infrastructure;

/// <summary>
/// A tiny OTLP/HTTP collector on 127.0.0.1: accepts <c>/v1/traces</c>, <c>/v1/metrics</c> and <c>/v1/logs</c>
/// (<c>application/x-protobuf</c>) and decodes the few fields the tests look at with <see cref="ProtoWire"/>.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();
    private readonly ConcurrentQueue<string> _metrics = new();
    private readonly ConcurrentQueue<string> _serviceNames = new();
    private readonly ConcurrentQueue<ReceivedLog> _logs = new();

    private OtlpReceiver(WebApplication app) => _app = app;

    /// <summary>The base address to give the exporter, e.g. http://127.0.0.1:41234.</summary>
    public Uri Endpoint { get; private set; } = null!;

    public IReadOnlyList<ReceivedSpan> Spans => [.. _spans];

    public IReadOnlyCollection<string> MetricNames => [.. _metrics.Distinct()];

    public IReadOnlyCollection<string> ServiceNames => [.. _serviceNames.Distinct()];

    public IReadOnlyList<ReceivedLog> Logs => [.. _logs];

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/traces", async (HttpContext context) => receiver.OnTraces(await ReadBodyAsync(context)));
        app.MapPost("/v1/metrics", async (HttpContext context) => receiver.OnMetrics(await ReadBodyAsync(context)));
        app.MapPost("/v1/logs", async (HttpContext context) => receiver.OnLogs(await ReadBodyAsync(context)));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        receiver.Endpoint = new Uri(address);
        return receiver;
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    // ExportTraceServiceRequest { ResourceSpans resource_spans = 1 }; ResourceSpans { Resource resource = 1; ScopeSpans scope_spans = 2 };
    // ScopeSpans { InstrumentationScope scope = 1; Span spans = 2 }; InstrumentationScope { string name = 1 };
    // Span { bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; KeyValue attributes = 9; Link links = 13 };
    // Link { bytes trace_id = 1; bytes span_id = 2 }.
    private IResult OnTraces(byte[] body)
    {
        foreach (var resourceSpans in Read(body).All(1))
        {
            var resource = resourceSpans.Message;
            RecordServiceName(resource);
            foreach (var scopeSpans in resource.All(2))
            {
                var scope = scopeSpans.Message.All(1).Select(s => s.Message.All(1).FirstOrDefault().Text).FirstOrDefault() ?? "";
                foreach (var span in scopeSpans.Message.All(2))
                {
                    var fields = span.Message;
                    _spans.Enqueue(new ReceivedSpan(
                        scope,
                        fields.All(5).Single().Text,
                        fields.All(1).Single().Hex,
                        fields.All(2).Single().Hex,
                        fields.All(4).Select(f => f.Hex).FirstOrDefault() ?? "",
                        Attributes(fields.All(9)),
                        [.. fields.All(13).Select(l => (l.Message.All(1).Single().Hex, l.Message.All(2).Single().Hex))]));
                }
            }
        }

        return Results.Ok();
    }

    // ExportMetricsServiceRequest { ResourceMetrics resource_metrics = 1 }; ResourceMetrics { Resource resource = 1; ScopeMetrics scope_metrics = 2 };
    // ScopeMetrics { InstrumentationScope scope = 1; Metric metrics = 2 }; Metric { string name = 1 }.
    private IResult OnMetrics(byte[] body)
    {
        foreach (var resourceMetrics in Read(body).All(1))
        {
            RecordServiceName(resourceMetrics.Message);
            foreach (var scopeMetrics in resourceMetrics.Message.All(2))
            {
                foreach (var metric in scopeMetrics.Message.All(2))
                {
                    _metrics.Enqueue(metric.Message.All(1).Single().Text);
                }
            }
        }

        return Results.Ok();
    }

    // ExportLogsServiceRequest { ResourceLogs resource_logs = 1 }; ResourceLogs { Resource resource = 1; ScopeLogs scope_logs = 2 };
    // ScopeLogs { InstrumentationScope scope = 1; LogRecord log_records = 2 };
    // LogRecord { string severity_text = 3; KeyValue attributes = 6; bytes trace_id = 9; bytes span_id = 10 }.
    private IResult OnLogs(byte[] body)
    {
        foreach (var resourceLogs in Read(body).All(1))
        {
            foreach (var scopeLogs in resourceLogs.Message.All(2))
            {
                var category = scopeLogs.Message.All(1).Select(s => s.Message.All(1).FirstOrDefault().Text).FirstOrDefault() ?? "";
                foreach (var record in scopeLogs.Message.All(2))
                {
                    var fields = record.Message;
                    _logs.Enqueue(new ReceivedLog(
                        category,
                        fields.All(9).Select(f => f.Hex).FirstOrDefault() ?? "",
                        fields.All(10).Select(f => f.Hex).FirstOrDefault() ?? ""));
                }
            }
        }

        return Results.Ok();
    }

    // Resource { KeyValue attributes = 1 }.
    private void RecordServiceName(IReadOnlyList<Field> resourceHolder)
    {
        foreach (var resource in resourceHolder.All(1))
        {
            if (Attributes(resource.Message.All(1)).TryGetValue("service.name", out var name))
            {
                _serviceNames.Enqueue(name);
            }
        }
    }

    // KeyValue { string key = 1; AnyValue value = 2 }; AnyValue { string string_value = 1; bool bool_value = 2; int64 int_value = 3 }.
    private static Dictionary<string, string> Attributes(IEnumerable<Field> keyValues)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var keyValue in keyValues)
        {
            var fields = keyValue.Message;
            var key = fields.All(1).Single().Text;
            var value = fields.All(2).Select(v => v.Message.FirstOrDefault()).FirstOrDefault();
            attributes[key] = value.Number switch
            {
                1 => value.Text,
                2 or 3 => value.Scalar.ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => "",
            };
        }

        return attributes;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}

/// <summary>One span as the receiver decoded it: ids in lower-case hex, links as (trace id, span id).</summary>
public sealed record ReceivedSpan(string Scope, string Name, string TraceId, string SpanId, string ParentSpanId, IReadOnlyDictionary<string, string> Attributes, IReadOnlyList<(string TraceId, string SpanId)> Links);

/// <summary>One log record as the receiver decoded it: its category (the scope's name) and trace context, in hex.</summary>
public sealed record ReceivedLog(string Category, string TraceId, string SpanId);
