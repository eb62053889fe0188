using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hub.LoadGen;

/// <summary>What one run measured; written as one JSON line (camelCase) and as a table.</summary>
internal sealed record LoadReport
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public required string Label { get; init; }
    public required string Target { get; init; }
    /// <summary><c>max-rate</c>, <c>fixed-rate</c> or <c>idle</c>.</summary>
    public required string Mode { get; init; }
    /// <summary>How many hub nodes the run used (several share one log); 1 for one server.</summary>
    public int Nodes { get; init; } = 1;
    /// <summary>With several nodes: where publishers and subscribers were, e.g. <c>publishers on A, subscribers on B</c>.</summary>
    public string? Placement { get; init; }
    public required int Subscribers { get; init; }
    public required int Slow { get; init; }
    public required int Stalled { get; init; }
    public required int Publishers { get; init; }
    public required int Batch { get; init; }
    /// <summary>The fixed rate asked for (events/s), 0 at max rate.</summary>
    public required int Rate { get; init; }
    /// <summary>The window rates are measured over: from the first publish to the end of publishing (or the last 202
    /// or delivery, if later).</summary>
    public required double Seconds { get; init; }
    /// <summary>Events answered 202.</summary>
    public required long Published { get; init; }
    public required double PublishedPerSecond { get; init; }
    public required long Requests { get; init; }
    /// <summary><see cref="Requests"/> ÷ <see cref="Seconds"/>: what one POST costs the server shows here at small batches.</summary>
    public double RequestsPerSecond { get; init; }
    public required long Rejected { get; init; }
    public required long FailedRequests { get; init; }
    /// <summary>Requests cancelled because they were still unanswered after the grace: a publisher held up by the server.</summary>
    public required long UnansweredRequests { get; init; }
    /// <summary>Events each regular (neither slow nor stalled) subscriber received, in subscriber order.</summary>
    public required long[] Delivered { get; init; }
    /// <summary>Events each slow or stalled subscriber received (slow first).</summary>
    public required long[] DeliveredSlow { get; init; }
    /// <summary>Regular subscribers that received at least every published event.</summary>
    public required int Complete { get; init; }
    /// <summary>Per regular subscriber, events/s: min, median, max.</summary>
    public required Spread DeliveredPerSecond { get; init; }
    public Spread? DeliveredPerSecondSlow { get; init; }
    /// <summary>All subscribers' deliveries per second together.</summary>
    public required double DeliveredPerSecondTotal { get; init; }
    public required Latency LatencyMs { get; init; }
    public required ServerFigures Server { get; init; }
    /// <summary>Connections that ended before the run did (closed by the server or broken), with the first reason.</summary>
    public required int ClientFailures { get; init; }
    public string? FirstClientFailure { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static LoadReport FromJson(string json) => JsonSerializer.Deserialize<LoadReport>(json, JsonOptions)!;

    public string ToTable()
    {
        var b = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        b.AppendLine(c, $"{Label} [{Target}, {Mode}{(Rate > 0 ? $" {Rate:N0}/s" : "")}]: {Subscribers} subscribers ({Slow} slow, {Stalled} stalled), {Publishers} publishers × batch {Batch}, {Seconds:F1} s");
        if (Placement is not null)
        {
            b.AppendLine(c, $"  {Nodes} nodes: {Placement}");
        }

        b.AppendLine(c, $"  published        {Published,12:N0} events  {PublishedPerSecond,12:N0} /s   ({Requests:N0} requests, {RequestsPerSecond:N0} /s, {Rejected:N0} rejected, {FailedRequests:N0} failed, {UnansweredRequests:N0} unanswered)");
        b.AppendLine(c, $"  delivered/client min {DeliveredPerSecond.Min,12:N0} /s  median {DeliveredPerSecond.Median,12:N0} /s  max {DeliveredPerSecond.Max,12:N0} /s   ({Complete} of {Delivered.Length} regular got every event)");
        if (DeliveredPerSecondSlow is { } slow)
        {
            b.AppendLine(c, $"  slow/stalled     min {slow.Min,12:N0} /s  median {slow.Median,12:N0} /s  max {slow.Max,12:N0} /s   (received {string.Join(", ", DeliveredSlow.Select(d => d.ToString("N0", c)))})");
        }

        b.AppendLine(c, $"  delivered total  {DeliveredPerSecondTotal,12:N0} /s");
        b.AppendLine(c, $"  latency (ms)     p50 {LatencyMs.P50:F3}  p99 {LatencyMs.P99:F3}  p99.9 {LatencyMs.P999:F3}  max {LatencyMs.Max:F3}  ({LatencyMs.Count:N0} deliveries)");
        if (Server.Pid > 0)
        {
            b.AppendLine(c, $"  server memory    before {Server.RssBeforeKb:N0} KiB  connected {Server.RssConnectedKb:N0} KiB  peak {Server.PeakRssKb:N0} KiB  VmHWM {Server.VmHwmKb:N0} KiB  per connection {Server.BytesPerConnection:N0} B");
        }

        if (ClientFailures > 0)
        {
            b.AppendLine(c, $"  client failures  {ClientFailures}: {FirstClientFailure}");
        }

        return b.ToString();
    }
}
