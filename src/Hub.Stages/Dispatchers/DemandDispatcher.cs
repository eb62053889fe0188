using System.Diagnostics;
using Hub.Stages.Subscriptions;

namespace Hub.Stages.Dispatchers;

/// <summary>
/// Sends each event to one subscriber: the one with the largest outstanding demand first, up to its whole demand,
/// then the next; ties keep their order (GenStage's <c>DemandDispatcher</c>).
/// </summary>
/// <remarks>
/// <para>When a subscriber leaves, its unmet demand is kept as pending: the producer was already asked for those events,
/// so later asks are satisfied from it before any demand is forwarded again.</para>
/// <para>A dispatch that can place nothing (no subscriber, or none with demand) returns every event and changes no
/// demand. The first ask sets the demand the dispatcher expects at most (<see cref="MaxDemand"/>, as GenStage's
/// <c>max</c>); a later ask for more is reported through the sink (<see cref="StageDiagnosticKind.DemandMismatch"/>):
/// subscribers with different <c>maxDemand</c>s make the largest one take the most, overloading the greedy.</para>
/// </remarks>
/// <typeparam name="T">The event type.</typeparam>
public sealed class DemandDispatcher<T> : IDispatcher<T>
{
    // Sorted by demand, largest first; an entry re-inserted goes after those with equal demand.
    private readonly List<Entry> _entries = [];
    private long _pending;
    private long? _maxDemand;

    /// <summary>Demand already forwarded for subscribers that have left, not yet matched by events.</summary>
    public long PendingDemand => _pending;

    /// <summary>The demand it expects a subscriber to ask for at most: the first ask's; null before any ask.</summary>
    public long? MaxDemand => _maxDemand;

    /// <summary>The number of subscribers.</summary>
    public int SubscriberCount => _entries.Count;

    /// <inheritdoc/>
    public long Subscribe(long subscriberId, SubscriptionOptions<T> options)
    {
        if (IndexOf(subscriberId) >= 0)
        {
            throw new ArgumentException($"Subscriber {subscriberId} is already subscribed.", nameof(subscriberId));
        }

        Insert(new Entry(subscriberId, 0));
        AssertInvariants();
        return 0;
    }

    /// <inheritdoc/>
    public long Ask(long subscriberId, long count, IDispatchSink<T> sink)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentNullException.ThrowIfNull(sink);
        int index = IndexOf(subscriberId);
        if (index < 0)
        {
            return 0;
        }

        _maxDemand ??= count;
        if (count > _maxDemand)
        {
            sink.Report(new StageDiagnostic(
                StageDiagnosticKind.DemandMismatch,
                count,
                $"DemandDispatcher expects a maximum demand of {_maxDemand}; subscriber {subscriberId} asked for {count}. Using different maximum demands will overload greedy consumers."));
        }

        Entry entry = _entries[index];
        _entries.RemoveAt(index);
        Insert(entry with { Demand = entry.Demand + count });
        long alreadySent = Math.Min(_pending, count);
        _pending -= alreadySent;
        AssertInvariants();
        return count - alreadySent;
    }

    /// <inheritdoc/>
    public long Cancel(long subscriberId)
    {
        int index = IndexOf(subscriberId);
        if (index >= 0)
        {
            _pending += _entries[index].Demand;
            _entries.RemoveAt(index);
        }

        AssertInvariants();
        return 0;
    }

    /// <inheritdoc/>
    public ReadOnlyMemory<T> Dispatch(ReadOnlyMemory<T> events, IDispatchSink<T> sink, out long demand)
    {
        ArgumentNullException.ThrowIfNull(sink);
        demand = 0;
        while (!events.IsEmpty && _entries.Count > 0 && _entries[0].Demand > 0)
        {
            Entry entry = _entries[0];
            int count = (int)Math.Min(entry.Demand, events.Length);
            _entries.RemoveAt(0);
            Insert(entry with { Demand = entry.Demand - count });
            AssertInvariants();
            sink.Deliver(entry.Id, events[..count]);
            events = events[count..];
        }

        return events;
    }

    /// <summary>The outstanding demand of a subscriber, or -1 when it is not subscribed.</summary>
    public long DemandOf(long subscriberId)
    {
        int index = IndexOf(subscriberId);
        return index < 0 ? -1 : _entries[index].Demand;
    }

    private int IndexOf(long subscriberId)
    {
        for (int i = 0; i < _entries.Count; i++)
        {
            if (_entries[i].Id == subscriberId)
            {
                return i;
            }
        }

        return -1;
    }

    private void Insert(Entry entry)
    {
        int index = 0;
        while (index < _entries.Count && _entries[index].Demand >= entry.Demand)
        {
            index++;
        }

        _entries.Insert(index, entry);
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_pending >= 0, "pending demand is never negative");
        for (int i = 0; i < _entries.Count; i++)
        {
            Debug.Assert(_entries[i].Demand >= 0, "demand is never negative");
            Debug.Assert(i == 0 || _entries[i - 1].Demand >= _entries[i].Demand, "entries are sorted by demand, largest first");
        }
    }

    private readonly record struct Entry(long Id, long Demand);
}
