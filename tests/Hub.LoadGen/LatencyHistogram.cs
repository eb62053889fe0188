using System.Numerics;

namespace Hub.LoadGen;

/// <summary>
/// Counts latencies (nanoseconds) in log-linear buckets: values below 128 ns each have a bucket, and every power of two
/// above is split into 128 equal buckets, so a reported percentile is within 1% of the value recorded. Recording is an
/// increment; one instance per subscriber (not thread-safe), merged at the end.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 7;
    private const int SubBuckets = 1 << SubBucketBits;
    private readonly long[] _counts = new long[(64 - SubBucketBits + 1) * SubBuckets];

    /// <summary>Values recorded.</summary>
    public long Count { get; private set; }

    /// <summary>The largest value recorded (exact).</summary>
    public long Max { get; private set; }

    public void Record(long nanoseconds)
    {
        if (nanoseconds < 0)
        {
            nanoseconds = 0;
        }

        _counts[IndexOf(nanoseconds)]++;
        Count++;
        if (nanoseconds > Max)
        {
            Max = nanoseconds;
        }
    }

    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>The value at or below which <paramref name="percentile"/> % of the values lie (the bucket's upper end,
    /// never more than the maximum); 0 when nothing was recorded.</summary>
    public long ValueAt(double percentile)
    {
        if (Count == 0)
        {
            return 0;
        }

        var rank = (long)Math.Ceiling(percentile / 100.0 * Count);
        rank = Math.Clamp(rank, 1, Count);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(UpperBoundOf(i), Max);
            }
        }

        return Max;
    }

    internal static int IndexOf(long value)
    {
        if (value < SubBuckets)
        {
            return (int)value;
        }

        var highestBit = 63 - BitOperations.LeadingZeroCount((ulong)value);
        var shift = highestBit - SubBucketBits;
        return ((shift + 1) << SubBucketBits) + (int)((value >> shift) - SubBuckets);
    }

    internal static long UpperBoundOf(int index)
    {
        if (index < SubBuckets)
        {
            return index;
        }

        var shift = (index >> SubBucketBits) - 1;
        var sub = (long)(index & (SubBuckets - 1)) + SubBuckets;
        return ((sub + 1) << shift) - 1;
    }
}
