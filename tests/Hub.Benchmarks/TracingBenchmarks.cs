using System.Diagnostics;
using System.Text;
using BenchmarkDotNet.Attributes;
using Hub.Log;
using Hub.Server.Publishing;
using Hub.Server.Telemetry;

namespace Hub.Benchmarks;

/// <summary>
/// What tracing costs on the hot path, with and without a listener on the <c>Hub</c> source: the delivery span of a
/// 100-event batch (its links read from the stored envelopes: events from one publish, or from 100 publishes), the
/// first read of an envelope's <c>traceparent</c> (later ones are kept on the entry), and parsing a 100-event publish
/// with and without writing the <c>traceparent</c> into each event's headers.
/// </summary>
[MemoryDiagnoser]
public class TracingBenchmarks
{
    private const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    private readonly PublishRequestParser _parser = new(maxBatchEvents: 1000);
    private List<LogEntry> _onePublish = null!;
    private List<LogEntry> _manyPublishes = null!;
    private byte[] _envelope = null!;
    private byte[] _body = null!;
    private ActivityListener? _listener;

    /// <summary>Whether an OpenTelemetry-like listener samples the <c>Hub</c> source.</summary>
    [Params(false, true)]
    public bool Listening { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _onePublish = Enumerable.Range(1, 100).Select(i => Entry(i, TraceParent)).ToList();
        _manyPublishes = Enumerable.Range(1, 100).Select(i => Entry(i, $"00-0af7651916cd43dd8448eb211c80319c-{i:x16}-01")).ToList();
        _envelope = _onePublish[0].Json;
        _body = Encoding.UTF8.GetBytes("[" + string.Join(',', Enumerable.Range(0, 100).Select(i => $$$"""{"topic":"orders.eu","type":"order.created","data":{"order":{{{i}}},"total":99.5},"headers":{"tenant":"t1"}}""")) + "]");
        if (Listening)
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = s => s.Name == HubTracing.SourceName,
                Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            };
            ActivitySource.AddActivityListener(_listener);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _listener?.Dispose();

    [Benchmark]
    public Activity? DeliverySpan_100EventsOfOnePublish()
    {
        using var activity = HubTracing.StartDelivery("connection", "subscription", _onePublish);
        return activity;
    }

    [Benchmark]
    public Activity? DeliverySpan_100EventsOf100Publishes()
    {
        using var activity = HubTracing.StartDelivery("connection", "subscription", _manyPublishes);
        return activity;
    }

    [Benchmark]
    public bool ReadTraceParent_FirstTime() => HubTracing.TryReadTraceParent(_envelope, out _);

    [Benchmark]
    public int Parse_100Events_WithoutTraceParent() => _parser.Parse(_body).Drafts!.Count;

    [Benchmark]
    public int Parse_100Events_WithTraceParent() => _parser.Parse(_body, TraceParent).Drafts!.Count;

    private static LogEntry Entry(long sequence, string traceParent) => new(sequence, "orders.eu", "order.created", null, null, DateTimeOffset.UnixEpoch,
        Encoding.UTF8.GetBytes($$$"""{"sequence":{{{sequence}}},"topic":"orders.eu","type":"order.created","id":null,"key":null,"time":"2026-12-04T00:00:00Z","data":{"order":{{{sequence}}},"total":99.5},"headers":{"tenant":"t1","traceparent":"{{{traceParent}}}"}}"""));
}
