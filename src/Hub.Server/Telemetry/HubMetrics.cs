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
    }

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

    /// <summary>Counts positions skipped for a subscriber; <paramref name="reason"/> is the gap's.</summary>
    public void RecordDropped(long positions, string reason) =>
        Interlocked.Add(ref reason == "retention" ? ref _droppedRetention : ref _droppedOverflow, positions);

    /// <inheritdoc />
    public void Dispose() => _meter?.Dispose();
}
