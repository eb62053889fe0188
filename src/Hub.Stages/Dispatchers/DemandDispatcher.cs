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
/// <para><b>Beyond GenStage</b>, for a hub whose subscribers are sockets: a subscriber the sink says cannot take more now
/// (<see cref="IDispatchSink{T}.CanTake"/>) is passed over as if it had no demand, and a <see cref="BatchLimit{T}"/>
/// ends a batch early (the subscriber may then get the next batch too, if it still has the most demand). Neither changes
/// the demand accounting; with neither in use, it is GenStage's dispatcher. Wrapped in an
/// <see cref="AcknowledgingDispatcher{T}"/> it serves a hub's demand groups.</para>
/// </remarks>
/// <typeparam name="T">The event type.</typeparam>
public sealed class DemandDispatcher<T> : IDispatcher<T>
{
    // Sorted by demand, largest first; an entry re-inserted goes after those with equal demand.
    private readonly List<Entry> _entries = [];
    private long _pending;
    private long? _maxDemand;
    private readonly BatchLimit<T>? _batchLimit;

    /// <summary>Creates a dispatcher.</summary>
    /// <param name="batchLimit">Ends a batch early by its events' sizes; none by default (a batch is bounded by demand).</param>
    public DemandDispatcher(BatchLimit<T>? batchLimit = null)
    {
        _batchLimit = batchLimit;
    }

    /// <summary>The demand of all subscribers, not yet met.</summary>
    public long TotalDemand
    {
        get
        {
            long total = 0;
            foreach (Entry entry in _entries)
            {
                total = total > long.MaxValue - entry.Demand ? long.MaxValue : total + entry.Demand;
            }

            return total;
        }
    }

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
        Insert(entry with { Demand = entry.Demand > long.MaxValue - count ? long.MaxValue : entry.Demand + count });
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
        while (!events.IsEmpty)
        {
            int index = NextTaker(sink);
            if (index < 0)
            {
                break;
            }

            Entry entry = _entries[index];
            int count = BatchLength(events.Span, (int)Math.Min(entry.Demand, events.Length));
            _entries.RemoveAt(index);
            Insert(entry with { Demand = entry.Demand - count });
            AssertInvariants();
            sink.Deliver(entry.Id, events[..count]);
            events = events[count..];
        }

        return events;
    }

    /// <summary>The first subscriber (largest demand first) with demand that the sink lets take; -1 when none.</summary>
    private int NextTaker(IDispatchSink<T> sink)
    {
        for (int i = 0; i < _entries.Count && _entries[i].Demand > 0; i++)
        {
            if (sink.CanTake(_entries[i].Id))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>How many of the first <paramref name="count"/> events one batch takes under the batch limit (at least one).</summary>
    private int BatchLength(ReadOnlySpan<T> events, int count)
    {
        if (_batchLimit is null)
        {
            return count;
        }

        long size = 0;
        int taken = 0;
        while (taken < count && size < _batchLimit.MaxSize)
        {
            size += _batchLimit.Size(events[taken++]);
        }

        return taken;
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
