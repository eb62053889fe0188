namespace Hub.LoadGen;

/// <summary>Publish → receive latency over every delivered event, in milliseconds.</summary>
internal sealed record Latency(long Count, double P50, double P99, double P999, double Max)
{
    public static Latency Of(LatencyHistogram h) =>
        new(h.Count, h.ValueAt(50) / 1e6, h.ValueAt(99) / 1e6, h.ValueAt(99.9) / 1e6, h.Max / 1e6);
}
