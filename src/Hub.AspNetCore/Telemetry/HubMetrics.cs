using System.Diagnostics.Metrics;

namespace Hub.Server.Telemetry;

/// <summary>
/// The hub's running totals: events published, appended, delivered and dropped. They are plain counters bumped once per
/// request or per delivered batch (never per event per subscriber), read by the dashboard feed and exported as the
/// observable instruments of the <c>Hub</c> meter, so the dashboard and telemetry show the same figures.
/// </summary>
public sealed class HubMetrics : IDisposable
{
    /// <summary>The name of the hub's <see cref="Meter"/>.</summary>
    public const string MeterName = "Hub";

    private readonly Meter? _meter;
    private readonly Histogram<double>? _latency;
    private long _published;
    private long _appended;
    private long _delivered;
    private long _droppedOverflow;
    private long _droppedRetention;

    /// <summary>Creates the totals without instruments (for tests and benchmarks).</summary>
    public HubMetrics()
    {
    }

    /// <summary>Creates the totals and their instruments on the <c>Hub</c> meter.</summary>
    public HubMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _meter.CreateObservableCounter("hub.events.published", () => Published, "{event}", "Events accepted by POST /api/events, duplicates included.");
        _meter.CreateObservableCounter("hub.events.appended", () => Appended, "{event}", "Events appended to the log (duplicates are not).");
        _meter.CreateObservableCounter("hub.events.delivered", () => Delivered, "{event}", "Events handed to subscribers' connections, counted once per subscriber.");
        _meter.CreateObservableCounter("hub.events.dropped", () => new Measurement<long>[]
        {
            new(Volatile.Read(ref _droppedOverflow), new KeyValuePair<string, object?>("reason", "overflow")),
            new(Volatile.Read(ref _droppedRetention), new KeyValuePair<string, object?>("reason", "retention")),
        }, "{event}", "Log positions skipped for subscribers by their overflow policy, by reason.");
        _latency = _meter.CreateHistogram("hub.delivery.latency", "s", "From the hub accepting an event (its time) to its write to a subscriber's connection completing, per event and subscriber.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] });
    }

    /// <summary>The meter the hub's instruments are on (null for totals made without one).</summary>
    internal Meter? Meter => _meter;

    /// <summary>Whether anyone listens to the delivery latency (so a delivery only reads the clock when it counts).</summary>
    internal bool LatencyEnabled => _latency is { Enabled: true };

    /// <summary>Events accepted by publish requests, duplicates included.</summary>
    public long Published => Volatile.Read(ref _published);

    /// <summary>Events appended to the log.</summary>
    public long Appended => Volatile.Read(ref _appended);

    /// <summary>Events handed to subscribers, once per subscriber.</summary>
    public long Delivered => Volatile.Read(ref _delivered);

    /// <summary>Log positions skipped for subscribers (gaps), all reasons.</summary>
    public long Dropped => Volatile.Read(ref _droppedOverflow) + Volatile.Read(ref _droppedRetention);

    /// <summary>Counts one publish request's events.</summary>
    public void RecordPublished(int events, int appended)
    {
        Interlocked.Add(ref _published, events);
        Interlocked.Add(ref _appended, appended);
    }

    /// <summary>Counts one batch handed to a subscriber's connection.</summary>
    public void RecordDelivered(int events) => Interlocked.Add(ref _delivered, events);

    /// <summary>Records, for each event of a batch just written to a subscriber, the time since the hub accepted it.</summary>
    internal void RecordDeliveryLatency(List<Log.LogEntry> batch, DateTimeOffset now)
    {
        if (_latency is not { Enabled: true } latency)
        {
            return;
        }

        foreach (var entry in batch)
        {
            latency.Record(Math.Max(0, (now - entry.Time).TotalSeconds));
        }
    }

    /// <summary>Counts positions skipped for a subscriber; <paramref name="reason"/> is the gap's.</summary>
    public void RecordDropped(long positions, string reason) =>
        Interlocked.Add(ref reason == "retention" ? ref _droppedRetention : ref _droppedOverflow, positions);

    /// <inheritdoc />
    public void Dispose() => _meter?.Dispose();
}
