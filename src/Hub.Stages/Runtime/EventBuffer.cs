using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Hub.Stages.Runtime;

/// <summary>
/// A producer's FIFO buffer for events no subscriber could take: a growable ring with a size limit and a keep
/// policy. Not thread-safe; the owning stage serialises calls.
/// </summary>
internal sealed class EventBuffer<T>
{
    private T[] _items = [];
    private int _start;
    private int _count;

    public EventBuffer(int capacity, BufferKeep keep)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Capacity = capacity;
        Keep = keep;
    }

    public int Capacity { get; }

    public BufferKeep Keep { get; }

    public int Count => _count;

    /// <summary>Appends events; returns how many were discarded to respect the capacity.</summary>
    public int PushBack(ReadOnlySpan<T> events)
    {
        long overflow = (long)_count + events.Length - Capacity;
        int dropped = 0;
        if (overflow > 0)
        {
            dropped = (int)overflow;
            if (Keep == BufferKeep.Last)
            {
                int fromBuffer = (int)Math.Min(overflow, _count);
                RemoveFront(fromBuffer);
                events = events[(int)(overflow - fromBuffer)..];
            }
            else
            {
                events = events[..(events.Length - (int)overflow)];
            }
        }

        EnsureRoom(_count + events.Length);
        foreach (T item in events)
        {
            _items[(_start + _count) % _items.Length] = item;
            _count++;
        }

        AssertInvariants();
        return dropped;
    }

    /// <summary>Appends one event unless the buffer is at its capacity. Returns whether it did.</summary>
    public bool TryPushBack(T item)
    {
        if (_count >= Capacity)
        {
            return false;
        }

        if (_count == _items.Length)
        {
            EnsureRoom(_count + 1);
        }

        int index = _start + _count;
        _items[index < _items.Length ? index : index - _items.Length] = item;
        _count++;
        return true;
    }

    /// <summary>Puts events back at the front (they were just taken), in their order.</summary>
    public void PushFront(ReadOnlySpan<T> events)
    {
        EnsureRoom(_count + events.Length);
        for (int i = events.Length - 1; i >= 0; i--)
        {
            _start = (_start - 1 + _items.Length) % _items.Length;
            _items[_start] = events[i];
            _count++;
        }

        AssertInvariants();
    }

    /// <summary>The event at <paramref name="index"/> from the front.</summary>
    public T this[int index] => _items[(_start + index) % _items.Length];

    /// <summary>Removes and returns the first event (the buffer is not empty).</summary>
    public T PopFront()
    {
        Debug.Assert(_count > 0, "the buffer is not empty");
        T item = _items[_start];
        _items[_start] = default!;
        _start = _count == 1 ? 0 : (_start + 1) % _items.Length;
        _count--;
        return item;
    }

    /// <summary>Removes the events <paramref name="match"/> selects, keeping the others' order; adds them to
    /// <paramref name="removed"/>. Returns how many.</summary>
    public int RemoveWhere(Func<T, bool> match, List<T> removed)
    {
        int kept = 0;
        int count = _count;
        for (int i = 0; i < count; i++)
        {
            T item = _items[(_start + i) % _items.Length];
            if (match(item))
            {
                removed.Add(item);
                continue;
            }

            _items[(_start + kept) % _items.Length] = item;
            kept++;
        }

        for (int i = kept; i < count; i++)
        {
            _items[(_start + i) % _items.Length] = default!;
        }

        _count = kept;
        AssertInvariants();
        return count - kept;
    }

    /// <summary>Removes and returns the first <paramref name="count"/> events in a new array.</summary>
    public T[] TakeFront(int count)
    {
        count = Math.Min(count, _count);
        var taken = new T[count];
        int first = Math.Min(count, _items.Length - _start); // up to the end of the ring, then from its start
        Array.Copy(_items, _start, taken, 0, first);
        Array.Copy(_items, 0, taken, first, count - first);
        RemoveFront(count);
        AssertInvariants();
        return taken;
    }

    private void RemoveFront(int count)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            // Let what was taken go: up to the end of the ring, then from its start.
            int first = Math.Min(count, _items.Length - _start);
            Array.Clear(_items, _start, first);
            Array.Clear(_items, 0, count - first);
        }

        _start = _count == count ? 0 : (_start + count) % _items.Length;
        _count -= count;
    }

    private void EnsureRoom(int needed)
    {
        if (needed <= _items.Length)
        {
            return;
        }

        var grown = new T[Math.Max(needed, Math.Max(16, _items.Length * 2))];
        for (int i = 0; i < _count; i++)
        {
            grown[i] = _items[(_start + i) % _items.Length];
        }

        _items = grown;
        _start = 0;
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_count >= 0 && _count <= _items.Length, "count fits the storage");
        Debug.Assert(_count <= Capacity, "buffered ≤ capacity");
    }
}
