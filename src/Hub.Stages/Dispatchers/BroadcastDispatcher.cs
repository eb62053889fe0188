using System.Diagnostics;
using Hub.Stages.Subscriptions;

namespace Hub.Stages.Dispatchers;

/// <summary>
/// Sends every event to every subscriber, with GenStage's semantics: upstream demand is the minimum across
/// subscribers, so the slowest sets everyone's pace, and a subscriber with no demand holds back all the others
/// until it asks or leaves.
/// </summary>
/// <remarks>
/// A subscriber may have a <see cref="SubscriptionOptions{T}.Selector"/>; the events it filters out are credited back
/// to its demand at once, so filtering never blocks the others. For a broadcast in which a slow subscriber does not
/// hold the others, see <see cref="CursorBroadcastDispatcher{T}"/>.
/// </remarks>
/// <typeparam name="T">The event type.</typeparam>
public sealed class BroadcastDispatcher<T> : IDispatcher<T>
{
    private readonly List<Entry> _entries = [];

    // Demand forwarded upstream and not yet matched by arriving events.
    private long _waiting;

    /// <summary>The number of subscribers.</summary>
    public int SubscriberCount => _entries.Count;

    /// <summary>Demand forwarded upstream and not yet matched by events.</summary>
    public long WaitingDemand => _waiting;

    /// <inheritdoc/>
    public long Subscribe(long subscriberId, SubscriptionOptions<T> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (Find(subscriberId) is not null)
        {
            throw new ArgumentException($"Subscriber {subscriberId} is already subscribed.", nameof(subscriberId));
        }

        _entries.Add(new Entry(subscriberId, options.Selector));
        AssertInvariants();
        return 0;
    }

    /// <inheritdoc/>
    public long Ask(long subscriberId, long count, IDispatchSink<T> sink)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Entry? entry = Find(subscriberId);
        if (entry is null)
        {
            return 0;
        }

        entry.Demand += count;
        return Forward();
    }

    /// <inheritdoc/>
    public long Cancel(long subscriberId)
    {
        Entry? entry = Find(subscriberId);
        if (entry is null)
        {
            return 0;
        }

        _entries.Remove(entry);
        if (_entries.Count == 0)
        {
            _waiting = 0;
        }

        return Forward();
    }

    /// <inheritdoc/>
    public ReadOnlyMemory<T> Dispatch(ReadOnlyMemory<T> events, IDispatchSink<T> sink, out long demand)
    {
        ArgumentNullException.ThrowIfNull(sink);
        _waiting = Math.Max(0, _waiting - events.Length);
        int count = (int)Math.Min(events.Length, MinDemand());
        if (count > 0)
        {
            ReadOnlyMemory<T> now = events[..count];
            foreach (Entry entry in _entries)
            {
                if (entry.Selector is null)
                {
                    entry.Demand -= count;
                    sink.Deliver(entry.Id, now);
                }
                else
                {
                    T[] selected = Select(now.Span, entry.Selector);
                    entry.Demand -= selected.Length; // the filtered-out events are credited back
                    if (selected.Length > 0)
                    {
                        sink.Deliver(entry.Id, selected);
                    }
                }
            }
        }

        demand = Forward();
        return events[count..];
    }

    /// <summary>The outstanding demand of a subscriber, or -1 when it is not subscribed.</summary>
    public long DemandOf(long subscriberId) => Find(subscriberId)?.Demand ?? -1;

    private static T[] Select(ReadOnlySpan<T> events, Func<T, bool> selector)
    {
        int selectedCount = 0;
        foreach (T item in events)
        {
            if (selector(item))
            {
                selectedCount++;
            }
        }

        if (selectedCount == 0)
        {
            return [];
        }

        var selected = new T[selectedCount];
        int next = 0;
        foreach (T item in events)
        {
            if (selector(item))
            {
                selected[next++] = item;
            }
        }

        return selected;
    }

    private long Forward()
    {
        long want = MinDemand() - _waiting;
        if (want > 0)
        {
            _waiting += want;
        }

        AssertInvariants();
        return Math.Max(0, want);
    }

    private long MinDemand()
    {
        if (_entries.Count == 0)
        {
            return 0;
        }

        long min = long.MaxValue;
        foreach (Entry entry in _entries)
        {
            min = Math.Min(min, entry.Demand);
        }

        return min;
    }

    private Entry? Find(long subscriberId)
    {
        foreach (Entry entry in _entries)
        {
            if (entry.Id == subscriberId)
            {
                return entry;
            }
        }

        return null;
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_waiting >= 0, "waiting demand is never negative");
        foreach (Entry entry in _entries)
        {
            Debug.Assert(entry.Demand >= 0, "demand is never negative");
        }
    }

    private sealed class Entry(long id, Func<T, bool>? selector)
    {
        public long Id { get; } = id;

        public Func<T, bool>? Selector { get; } = selector;

        public long Demand { get; set; }
    }
}
