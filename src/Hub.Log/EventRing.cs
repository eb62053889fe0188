using System.Diagnostics;

namespace Hub.Log;

/// <summary>
/// The last <c>capacity</c> entries of the log, indexed by sequence: the whole in-memory log, or the recent tail of a
/// durable one. One writer (serialised by its owner) writes slots, then publishes the head; readers never lock: they
/// read the head, then the slots, and check each slot's sequence, so a slot overwritten under a slow reader shows as
/// truncation, never as a wrong event.
/// </summary>
internal sealed class EventRing
{
    private readonly LogEntry?[] _slots;
    private long _head;
    private long _floor = 1;

    public EventRing(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _slots = new LogEntry?[capacity];
    }

    /// <summary>The last published sequence.</summary>
    public long Head => Volatile.Read(ref _head);

    /// <summary>The oldest sequence the ring holds (head + 1 when it holds nothing).</summary>
    public long First => Math.Max(Volatile.Read(ref _floor), Head - _slots.Length + 1);

    public int Capacity => _slots.Length;

    /// <summary>Writes an entry above the head (writer only); it becomes visible with <see cref="Publish"/>.</summary>
    public void Write(LogEntry entry)
    {
        Debug.Assert(entry.Sequence > _head, "entries are written in sequence order above the head");
        Volatile.Write(ref _slots[entry.Sequence % _slots.Length], entry);
    }

    /// <summary>Makes everything written up to <paramref name="head"/> visible to readers (writer only).</summary>
    public void Publish(long head)
    {
        Debug.Assert(head >= _head, "the head never moves back");
        Volatile.Write(ref _head, head);
    }

    /// <summary>
    /// Forgets everything below <paramref name="first"/>: retention by age, or, for a ring started over an existing
    /// durable log, where the entries it was given begin (call it before the first <see cref="Publish"/>).
    /// </summary>
    public void TrimTo(long first)
    {
        if (first > Volatile.Read(ref _floor))
        {
            Volatile.Write(ref _floor, first);
        }
    }

    /// <summary>The entry with <paramref name="sequence"/>, if the ring still holds it.</summary>
    public LogEntry? Get(long sequence)
    {
        var entry = Volatile.Read(ref _slots[sequence % _slots.Length]);
        return entry?.Sequence == sequence && sequence >= First ? entry : null;
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
            var entry = Volatile.Read(ref _slots[(position + 1) % _slots.Length]);
            if (entry is null || entry.Sequence != position + 1)
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
