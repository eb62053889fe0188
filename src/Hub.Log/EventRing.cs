using System.Diagnostics;

namespace Hub.Log;

/// <summary>
/// The last <c>capacity</c> entries of the log, indexed by sequence: the whole in-memory log, or the recent tail of a
/// durable one. One writer (serialised by its owner) writes slots, then publishes the head; readers never lock: they
/// read the head, then the slots, and check each slot's sequence, so a slot overwritten under a slow reader shows as
/// truncation, never as a wrong event.
/// </summary>
/// <remarks>
/// <para><b>Hot and cold.</b> The newest <c>hotCapacity</c> entries are kept as the <see cref="LogEntry"/> objects
/// appended: live subscribers read there, and share one object per event (its MessagePack envelope and trace context
/// made once). Older ones, when the ring is larger than that, are moved at the moment the hot slot is reused into
/// <see cref="EventSegments"/>: compact slots and byte segments the garbage collector does not trace, so a retention
/// window of a million events is not a million objects surviving to gen2 (the memory log's p99 latency at 10,000
/// events/s was its gen2 pauses). A read there makes a short-lived entry from the bytes.</para>
/// <para>The cold slot of an entry is published before its hot slot is reused, and readers look at the hot slot first,
/// so an entry moving between the two is always found in one of them.</para>
/// </remarks>
internal sealed class EventRing
{
    /// <summary>How many of the newest entries a ring keeps as objects at most (<see cref="LogTail.DefaultCapacity"/>: what a node's tail holds).</summary>
    internal const int DefaultHotCapacity = LogTail.DefaultCapacity;

    private readonly LogEntry?[] _hot;
    private readonly EventSegments? _cold;
    private readonly int _capacity;
    private long _head;
    private long _floor = 1;

    /// <param name="capacity">How many entries the ring holds.</param>
    /// <param name="hotCapacity">How many of them as objects (the rest as bytes); at most <paramref name="capacity"/>.</param>
    public EventRing(int capacity, int hotCapacity = DefaultHotCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hotCapacity, 1);
        _capacity = capacity;
        _hot = new LogEntry?[Math.Min(capacity, hotCapacity)];
        _cold = capacity > _hot.Length ? new EventSegments(capacity - _hot.Length) : null;
    }

    /// <summary>The last published sequence.</summary>
    public long Head => Volatile.Read(ref _head);

    /// <summary>The oldest sequence the ring holds (head + 1 when it holds nothing).</summary>
    public long First => Math.Max(Volatile.Read(ref _floor), Head - _capacity + 1);

    public int Capacity => _capacity;

    /// <summary>How many of the newest entries are kept as objects.</summary>
    internal int HotCapacity => _hot.Length;

    /// <summary>The cold part, if the ring is larger than its hot part (for tests).</summary>
    internal EventSegments? Cold => _cold;

    /// <summary>Writes an entry above the head (writer only); it becomes visible with <see cref="Publish"/>.</summary>
    public void Write(LogEntry entry)
    {
        Debug.Assert(entry.Sequence > _head, "entries are written in sequence order above the head");
        ref var slot = ref _hot[entry.Sequence % _hot.Length];
        if (_cold is not null && slot is { } leaving)
        {
            // Cold first, published, then the hot slot reused: a reader finds the leaving entry in one or the other.
            // Retained after this write: from (this entry - capacity + 1), or the floor.
            _cold.Write(leaving, Math.Max(Volatile.Read(ref _floor), entry.Sequence - _capacity + 1));
        }

        Volatile.Write(ref slot, entry);
    }

    /// <summary>Makes everything written up to <paramref name="head"/> visible to readers (writer only).</summary>
    public void Publish(long head)
    {
        Debug.Assert(head >= _head, "the head never moves back");
        Volatile.Write(ref _head, head);
    }

    /// <summary>
    /// Forgets everything below <paramref name="first"/>: retention by age, or, for a ring started over an existing
    /// durable log, where the entries it was given begin (call it before the first <see cref="Publish"/>). The cold
    /// segments below it are dropped at the next write.
    /// </summary>
    public void TrimTo(long first)
    {
        // Raised by readers too (retention by age): never lowered.
        var known = Volatile.Read(ref _floor);
        while (first > known)
        {
            var seen = Interlocked.CompareExchange(ref _floor, first, known);
            if (seen == known)
            {
                return;
            }

            known = seen;
        }
    }

    /// <summary>The entry with <paramref name="sequence"/>, if the ring still holds it.</summary>
    public LogEntry? Get(long sequence)
    {
        var entry = Find(sequence);
        return entry is not null && sequence >= First ? entry : null;
    }

    /// <summary>When the entry with <paramref name="sequence"/> was accepted, if the ring still holds it (no bytes copied).</summary>
    public bool TryGetTime(long sequence, out DateTimeOffset time)
    {
        if (sequence > 0 && Volatile.Read(ref _hot[sequence % _hot.Length]) is { } hot && hot.Sequence == sequence)
        {
            time = hot.Time;
            return true;
        }

        if (_cold is not null && _cold.TryGetTime(sequence, out time))
        {
            return true;
        }

        time = default;
        return false;
    }

    /// <summary>The entry with <paramref name="sequence"/> from its hot slot, else its cold one; null when neither holds it.</summary>
    private LogEntry? Find(long sequence)
    {
        if (sequence <= 0)
        {
            return null;
        }

        var hot = Volatile.Read(ref _hot[sequence % _hot.Length]);
        if (hot is not null && hot.Sequence == sequence)
        {
            return hot;
        }

        return _cold?.Get(sequence);
    }

    /// <summary>
    /// Reads the entries after <paramref name="after"/> that <paramref name="filter"/> selects into <paramref name="into"/>
    /// (see <see cref="IEventLog.ReadAsync"/>), examining at most <paramref name="maxScan"/> entries. Truncated when
    /// <paramref name="after"/> is below what the ring holds.
    /// </summary>
    public LogRead Read(long after, IEventFilter? filter, int maxEvents, int maxBytes, int maxScan, List<LogEntry> into, CancellationToken cancellationToken)
    {
        var head = Head;
        var first = First;
        if (after + 1 < first)
        {
            return new LogRead(after, Truncated: true, first);
        }

        var bytes = 0;
        var taken = 0;
        var position = after;
        var end = head - after <= maxScan ? head : after + maxScan; // (no overflow for any after)
        while (position < end && taken < maxEvents && (taken == 0 || bytes < maxBytes))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var entry = Find(position + 1);
            if (entry is null)
            {
                // The writer wrapped around past us while we read: what we hold is still good, the rest is gone.
                if (taken > 0)
                {
                    break;
                }

                return new LogRead(after, Truncated: true, First);
            }

            position++;
            if (filter is null || filter.Matches(entry))
            {
                into.Add(entry);
                taken++;
                bytes += entry.Json.Length;
            }
        }

        return new LogRead(position, Truncated: false, first);
    }
}
