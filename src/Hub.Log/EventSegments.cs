using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace Hub.Log;

/// <summary>
/// The cold part of an <see cref="EventRing"/>: the entries past its hot window, kept as bytes so that a full retention
/// window costs the garbage collector a few large objects instead of millions of small ones.
/// </summary>
/// <remarks>
/// <para><b>Why.</b> A <see cref="LogEntry"/> is an object graph (the entry, its JSON and MessagePack arrays, four
/// strings): kept for minutes, a million of them are promoted through every generation and then traced by every gen2
/// collection, and the memory log's p99 delivery latency showed those pauses. Here one entry is a 40-byte struct with no
/// references (the slot array is one object the collector never looks into) and its bytes are appended to 1 MiB
/// segments (byte arrays: large objects, never traced either). Whole segments are dropped once retention has moved past
/// every entry they hold, and the collector frees them as a few large objects.</para>
/// <para><b>Segments are never reused.</b> Recycling one would need reference counts (a reader may be copying from it);
/// instead a dropped segment is left to the collector, which makes the reader's rule simple: bytes it found through a
/// slot it validated are the bytes appended, whenever it copies them.</para>
/// <para><b>Readers never lock.</b> A slot is a seqlock: the writer clears its sequence (full fence), writes the fields,
/// then publishes the sequence; a reader reads the sequence, copies the slot, fences, and reads the sequence again.
/// Equal to the one it wants: the copy is whole. Otherwise the slot was overwritten (retention moved past it), which the
/// ring reports as truncation, never as another event's bytes.</para>
/// <para><b>What a reader gets</b> is a new <see cref="LogEntry"/> with its own copy of the bytes (the shape every reader
/// already takes); the copy lives as long as the read, in gen0. The MessagePack envelope made while the entry was hot is
/// kept with it, so it is made once per entry. Topic and type strings are interned (one instance per name), ids and
/// keys are made per read.</para>
/// <para>One writer (the ring's owner serialises it); any number of readers.</para>
/// </remarks>
internal sealed class EventSegments
{
    /// <summary>The size of one segment; a record larger than this gets a segment of its own.</summary>
    internal const int SegmentBytes = 1024 * 1024;

    /// <summary>The most distinct topic and type names interned; past it, names read are made per read (still correct).</summary>
    internal const int MaxInterned = 10_000;

    private readonly Slot[] _slots;
    private Segment?[] _segments = new Segment?[16]; // by number, a power-of-two ring; replaced (grown) by the writer
    private Segment? _current;
    private int _nextSegment;
    private int _oldestSegment; // the lowest number that may still be in the table (writer only)
    private readonly ConcurrentDictionary<string, string> _names = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _namesBySpan;

    public EventSegments(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _slots = new Slot[capacity];
        _namesBySpan = _names.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>How many entries the slots hold.</summary>
    public int Capacity => _slots.Length;

    /// <summary>How many segments are held now (for tests and the benchmark).</summary>
    internal int SegmentCount
    {
        get
        {
            var count = 0;
            foreach (var segment in Volatile.Read(ref _segments))
            {
                count += segment is null ? 0 : 1;
            }

            return count;
        }
    }

    /// <summary>
    /// Appends <paramref name="entry"/> into the slot of its sequence (writer only), then drops the segments that hold
    /// nothing at or above <paramref name="firstRetained"/>.
    /// </summary>
    public void Write(LogEntry entry, long firstRetained)
    {
        var json = entry.Json;
        var messagePack = entry.KnownMessagePack;
        var strings = StringsLength(entry);
        var length = json.Length + (messagePack?.Length ?? 0) + strings;
        var segment = SegmentFor(length);
        var offset = segment.Used;
        var span = segment.Bytes.AsSpan(offset, length);
        json.CopyTo(span);
        messagePack?.CopyTo(span[json.Length..]);
        WriteStrings(entry, span[(json.Length + (messagePack?.Length ?? 0))..]);
        segment.Used += length;
        segment.LastSequence = entry.Sequence;

        ref var slot = ref _slots[entry.Sequence % _slots.Length];
        Volatile.Write(ref slot.Sequence, 0);
        Interlocked.MemoryBarrier(); // no field below is seen before the slot reads as being written
        slot.UtcTicks = entry.Time.UtcTicks;
        slot.OffsetMinutes = (short)entry.Time.TotalOffsetMinutes;
        slot.Segment = segment.Number;
        slot.Offset = offset;
        slot.JsonLength = json.Length;
        slot.MessagePackLength = messagePack?.Length ?? -1;
        slot.StringsLength = strings;
        Volatile.Write(ref slot.Sequence, entry.Sequence); // release: the fields and the bytes before it

        Release(firstRetained);
    }

    /// <summary>When the entry with <paramref name="sequence"/> was accepted, if a slot still holds it.</summary>
    public bool TryGetTime(long sequence, out DateTimeOffset time)
    {
        if (TryCopySlot(sequence, out var slot))
        {
            time = new DateTimeOffset(slot.UtcTicks, TimeSpan.Zero).ToOffset(TimeSpan.FromMinutes(slot.OffsetMinutes));
            return true;
        }

        time = default;
        return false;
    }

    /// <summary>
    /// The entry with <paramref name="sequence"/>, made from its bytes, or null when no slot holds it any more (or never
    /// did): overwritten, or its segment dropped.
    /// </summary>
    public LogEntry? Get(long sequence)
    {
        if (!TryCopySlot(sequence, out var slot))
        {
            return null;
        }

        // The table is read after the slot was validated: a segment made after a growth is found in the new table.
        var table = Volatile.Read(ref _segments);
        var segment = Volatile.Read(ref table[slot.Segment & (table.Length - 1)]);
        if (segment is null || segment.Number != slot.Segment)
        {
            return null; // dropped: retention moved past it
        }

        // Segments are never reused, so these bytes are the ones appended for this slot, even if it is overwritten now.
        ReadOnlySpan<byte> bytes = segment.Bytes.AsSpan(slot.Offset);
        var json = bytes[..slot.JsonLength].ToArray();
        var at = slot.JsonLength;
        byte[]? messagePack = null;
        if (slot.MessagePackLength >= 0)
        {
            messagePack = bytes.Slice(at, slot.MessagePackLength).ToArray();
            at += slot.MessagePackLength;
        }

        var strings = bytes.Slice(at, slot.StringsLength);
        var topic = ReadString(ref strings, intern: true)!;
        var type = ReadString(ref strings, intern: true);
        var id = ReadString(ref strings, intern: false);
        var key = ReadString(ref strings, intern: false);
        var time = new DateTimeOffset(slot.UtcTicks, TimeSpan.Zero).ToOffset(TimeSpan.FromMinutes(slot.OffsetMinutes));
        return new LogEntry(sequence, topic, type, id, key, time, json, messagePack);
    }

    private bool TryCopySlot(long sequence, out Slot copy)
    {
        ref var slot = ref _slots[sequence % _slots.Length];
        if (sequence <= 0 || Volatile.Read(ref slot.Sequence) != sequence)
        {
            copy = default;
            return false;
        }

        copy = slot;
        Interlocked.MemoryBarrier(); // the copy is read before the sequence is read again
        return Volatile.Read(ref slot.Sequence) == sequence;
    }

    /// <summary>The segment the next <paramref name="length"/> bytes go to: the current one, or a new one.</summary>
    private Segment SegmentFor(int length)
    {
        if (_current is { } current && current.Bytes.Length - current.Used >= length)
        {
            return current;
        }

        // Uninitialized: every byte a reader can reach is written before the slot that leads to it is published.
        var segment = new Segment(_nextSegment++, GC.AllocateUninitializedArray<byte>(Math.Max(SegmentBytes, length)));
        var table = _segments;
        if (table[segment.Number & (table.Length - 1)] is not null)
        {
            table = Grow(table);
        }

        Volatile.Write(ref table[segment.Number & (table.Length - 1)], segment);
        _current = segment;
        return segment;
    }

    /// <summary>Twice as many places, the held segments copied over, then published (writer only).</summary>
    private Segment?[] Grow(Segment?[] table)
    {
        var grown = new Segment?[table.Length * 2];
        foreach (var segment in table)
        {
            if (segment is not null)
            {
                grown[segment.Number & (grown.Length - 1)] = segment;
            }
        }

        Volatile.Write(ref _segments, grown);
        return grown;
    }

    /// <summary>Drops, oldest first, the segments whose every entry is below <paramref name="firstRetained"/> (never the current one).</summary>
    private void Release(long firstRetained)
    {
        var table = _segments;
        while (_oldestSegment < _nextSegment - 1)
        {
            ref var place = ref table[_oldestSegment & (table.Length - 1)];
            var oldest = place;
            Debug.Assert(oldest is null || oldest.Number == _oldestSegment, "segments are held in number order");
            if (oldest is not null && oldest.LastSequence >= firstRetained)
            {
                return;
            }

            Volatile.Write(ref place, null);
            _oldestSegment++;
        }
    }

    private static int StringsLength(LogEntry entry) =>
        StringLength(entry.Topic) + StringLength(entry.Type) + StringLength(entry.Id) + StringLength(entry.Key);

    private static int StringLength(string? value) => sizeof(int) + (value is null ? 0 : Encoding.UTF8.GetByteCount(value));

    private static void WriteStrings(LogEntry entry, Span<byte> into)
    {
        WriteString(entry.Topic, ref into);
        WriteString(entry.Type, ref into);
        WriteString(entry.Id, ref into);
        WriteString(entry.Key, ref into);
    }

    private static void WriteString(string? value, ref Span<byte> into)
    {
        if (value is null)
        {
            BinaryPrimitives.WriteInt32LittleEndian(into, -1);
            into = into[sizeof(int)..];
            return;
        }

        var written = Encoding.UTF8.GetBytes(value, into[sizeof(int)..]);
        BinaryPrimitives.WriteInt32LittleEndian(into, written);
        into = into[(sizeof(int) + written)..];
    }

    private string? ReadString(ref ReadOnlySpan<byte> from, bool intern)
    {
        var length = BinaryPrimitives.ReadInt32LittleEndian(from);
        from = from[sizeof(int)..];
        if (length < 0)
        {
            return null;
        }

        var utf8 = from[..length];
        from = from[length..];
        if (!intern || length > 256)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        Span<char> chars = stackalloc char[256];
        var count = Encoding.UTF8.GetChars(utf8, chars);
        if (_namesBySpan.TryGetValue(chars[..count], out var known))
        {
            return known;
        }

        var made = new string(chars[..count]);
        return _names.Count < MaxInterned ? _names.GetOrAdd(made, made) : made;
    }

    /// <summary>Where an entry's bytes are: 40 bytes, no references (the collector does not look into the array).</summary>
    private struct Slot
    {
        public long Sequence; // 0 while the writer writes the slot (sequences start at 1)
        public long UtcTicks;
        public int Segment;
        public int Offset;
        public int JsonLength;
        public int MessagePackLength; // -1: none was made while the entry was hot
        public int StringsLength;
        public short OffsetMinutes;
    }

    /// <summary>One segment: appended to by the writer only, below <see cref="Used"/> never changed again.</summary>
    private sealed class Segment(int number, byte[] bytes)
    {
        public readonly int Number = number;
        public readonly byte[] Bytes = bytes;
        public int Used;
        public long LastSequence;
    }
}
