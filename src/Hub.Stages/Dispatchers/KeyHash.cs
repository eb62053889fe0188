namespace Hub.Stages.Dispatchers;

/// <summary>
/// The partition of a string key, the same in every process and on every run (FNV-1a over its UTF-16 code units;
/// <see cref="string.GetHashCode()"/> is randomised per process). Use it as a <see cref="PartitionDispatcher{T}"/>'s hash
/// when partitions must agree across processes, as a hub's group partitions do across nodes.
/// </summary>
public static class KeyHash
{
    /// <summary>The partition of <paramref name="key"/> among <paramref name="partitions"/> (0 to partitions - 1).</summary>
    public static int Partition(string key, int partitions)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        var hash = 2166136261u;
        foreach (var c in key)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % (uint)partitions);
    }

    /// <summary>
    /// The partition of an event among <paramref name="partitions"/>: its <paramref name="key"/>'s (so one key always
    /// goes to one partition), or, for an event without a key, its <paramref name="sequence"/>'s (so keyless events
    /// spread evenly). The one rule by which a hub partitions its events (groups' partitions, a handler's per-key lanes).
    /// </summary>
    public static int Partition(string? key, long sequence, int partitions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        return key is null ? (int)(sequence % partitions) : Partition(key, partitions);
    }
}
