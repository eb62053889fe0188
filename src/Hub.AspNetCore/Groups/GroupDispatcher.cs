using System.Diagnostics;
using System.Runtime.InteropServices;
using Hub.Log;
using Hub.Stages.Dispatchers;
using Hub.Stages.Subscriptions;

namespace Hub.Server.Groups;

/// <summary>
/// A group's side of Hub.Stages' dispatchers: it runs an <see cref="AcknowledgingDispatcher{T}"/> around a
/// <see cref="DemandDispatcher{T}"/> (demand group) or a <see cref="PartitionDispatcher{T}"/> with dealt partitions
/// (partition group), and keeps what only a group over leased partitions needs: the events read and not yet placed, in
/// sequence order, and per leased partition what is in flight and how far it was handed. A pure state machine like the
/// dispatchers: the <see cref="Group"/> that owns one serialises every call.
/// </summary>
/// <remarks>
/// <para>Who gets which event is the dispatchers' (see their docs): <b>demand</b>, the member with the most credits first,
/// up to its credits; <b>partition</b>, <see cref="PartitionCount"/> partitions (an event's is the hash of its key; one
/// without a key is spread by its sequence) dealt round-robin over the members in join order, a partition moving to a new
/// owner only once its old owner's events of it are acknowledged or redelivered. Acknowledgements and redelivery are the
/// <see cref="AcknowledgingDispatcher{T}"/>'s: <see cref="Ask"/> acknowledges the member's n oldest events in flight and
/// grants n credits; a member that leaves gives back its unacknowledged events, marked redelivered, ahead of newer ones.</para>
/// <para>A batch stops growing once its events' JSON reaches <c>maxBatchBytes</c> (a <see cref="BatchLimit{T}"/>), and a
/// member the owner says cannot take more now (its outbox still holds a batch's worth of bytes unsent) is passed over as
/// if it had no credits (<see cref="IDispatchSink{T}.CanTake"/>): what a member holds unsent is bounded by its credits and
/// by bytes. Nothing above the mark the leases reserved is handed (see <see cref="IGroupLeases"/>).</para>
/// </remarks>
internal sealed class GroupDispatcher : IDispatchSink<GroupItem>
{
    /// <summary>How many partitions a partition group hashes keys into: the partitions its stream is leased by
    /// (<see cref="IGroupLeases.Partitions"/>), so a key's queue and its lease are one.</summary>
    public const int PartitionCount = IGroupLeases.Partitions;

    private static readonly IComparer<GroupItem> BySequence = Comparer<GroupItem>.Create(static (x, y) => x.Sequence.CompareTo(y.Sequence));

    private readonly GroupDispatchMode _mode;
    private readonly AcknowledgingDispatcher<GroupItem> _dispatcher;
    private readonly DemandDispatcher<GroupItem>? _demand;
    private readonly PartitionDispatcher<GroupItem>? _partitions;
    private readonly ReadBuffer _read = new();  // read from the log, not yet placed with the dispatcher: in sequence order
    private readonly Dictionary<string, long> _ids = new(StringComparer.Ordinal);
    private readonly Dictionary<long, string> _names = [];
    private readonly int[] _inFlightByLease = new int[PartitionCount];    // events of each leased partition in flight
    private readonly long[] _handedByLease = new long[PartitionCount];    // the highest sequence of each leased partition handed
    private readonly List<GroupItem> _removed = [];
    private long _nextId;
    private long _placedUpTo;           // the highest sequence placed with the partition dispatcher (it queues them)
    private Action<string, List<GroupItem>>? _deliver; // set only during Dispatch: nothing is handed out otherwise
    private Func<string, bool> _canTake = static _ => true;

    public GroupDispatcher(GroupDispatchMode mode, int maxBatchBytes = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchBytes, 1);
        _mode = mode;
        var limit = new BatchLimit<GroupItem>(static item => item.Entry.Json.Length, maxBatchBytes);
        IDispatcher<GroupItem> inner;
        if (mode == GroupDispatchMode.Partition)
        {
            inner = _partitions = new PartitionDispatcher<GroupItem>(
                PartitionCount, static item => item.Partition, Group.MaxQueued, dealPartitions: true, BySequence, limit);
        }
        else
        {
            inner = _demand = new DemandDispatcher<GroupItem>(limit);
        }

        _dispatcher = new AcknowledgingDispatcher<GroupItem>(inner, static item => item with { Redelivered = true });
    }

    /// <summary>The members, in join order.</summary>
    public int MemberCount => _ids.Count;

    /// <summary>Events read from the log and not yet handed to a member.</summary>
    public long Queued => _read.Count + (_partitions?.Queued ?? 0);

    /// <summary>Events handed to members and not yet acknowledged.</summary>
    public long InFlight => _dispatcher.InFlight;

    /// <summary>Credits held by all members.</summary>
    public long TotalCredits => _demand?.TotalDemand ?? _partitions!.TotalDemand;

    /// <summary>The highest sequence ever handed to a member.</summary>
    public long HighestHanded { get; private set; }

    /// <summary>The queue an event belongs to.</summary>
    public int PartitionOf(LogEntry entry) => _mode == GroupDispatchMode.Demand ? 0 : LeaseOf(entry);

    /// <summary>
    /// The leased partition of the group's stream an event belongs to (see <see cref="IGroupLeases"/>): in a partition
    /// group, its queue (the hash of its key, so a key is read by one node at a time, in order); in a demand group, its
    /// sequence's (so the nodes share the events evenly).
    /// </summary>
    public int LeaseOf(LogEntry entry)
    {
        if (_mode == GroupDispatchMode.Demand)
        {
            return (int)(entry.Sequence % PartitionCount);
        }

        // Keyed events by a hash that every node computes alike, so a key is in the same leased partition everywhere.
        return KeyHash.Partition(entry.Key, entry.Sequence, PartitionCount);
    }

    /// <summary>Adds a member with <paramref name="credits"/> credits.</summary>
    public void Join(string memberId, long credits)
    {
        var id = ++_nextId;
        _ids.Add(memberId, id);
        _names.Add(id, memberId);
        _dispatcher.Subscribe(id, SubscriptionOptions<GroupItem>.Default);
        _dispatcher.Ask(id, credits, this); // nothing is handed out of Dispatch
        AssertInvariants();
    }

    /// <summary>Removes a member; its unacknowledged events go back to be dispatched first, marked redelivered. Returns how many.</summary>
    public int Leave(string memberId)
    {
        if (!_ids.Remove(memberId, out var id))
        {
            return 0;
        }

        _names.Remove(id);
        var returned = _dispatcher.InFlightOf(id);
        foreach (var item in _dispatcher.InFlightEventsOf(id))
        {
            _inFlightByLease[item.Lease]--;
        }

        // A partition dispatcher queues them again itself; a demand dispatcher gives them back to be placed first.
        _read.Merge(_dispatcher.Cancel(id, out _).Span);
        AssertInvariants();
        return returned;
    }

    /// <summary>
    /// Grants <paramref name="credits"/> to a member and acknowledges its <paramref name="credits"/> oldest events in
    /// flight (all of them if it holds fewer). Returns how many were acknowledged; unknown members are ignored.
    /// </summary>
    public int Ask(string memberId, long credits)
    {
        if (!_ids.TryGetValue(memberId, out var id))
        {
            return 0;
        }

        var before = _dispatcher.InFlightOf(id);
        _dispatcher.Ask(id, credits, this); // nothing is handed out of Dispatch: the pump does it
        AssertInvariants();
        return before - _dispatcher.InFlightOf(id);
    }

    /// <summary>
    /// Queues events read from the log, in sequence order. Those at or below <paramref name="handedBefore"/> were handed
    /// out before the group last stopped (and not acknowledged): they are marked redelivered.
    /// </summary>
    public void Offer(List<LogEntry> entries, long handedBefore)
    {
        foreach (var entry in entries)
        {
            Enqueue(entry, redelivered: entry.Sequence <= handedBefore);
        }
    }

    /// <summary>Queues one event read from the log, in sequence order with those waiting.</summary>
    public void Enqueue(LogEntry entry, bool redelivered) =>
        _read.Insert(new GroupItem(entry, PartitionOf(entry), redelivered, LeaseOf(entry)));

    /// <summary>
    /// Takes out of the queues (not out of members' hands) the events of the leased partitions <paramref name="lease"/>
    /// selects, and writes in <paramref name="oldestRemoved"/> (one slot per leased partition, untouched where none) the
    /// lowest sequence taken of each. Returns how many.
    /// </summary>
    public int RemoveQueued(Func<int, bool> lease, Span<long> oldestRemoved)
    {
        _removed.Clear();
        _read.RemoveWhere(item => lease(item.Lease), _removed);
        _partitions?.RemoveQueued(item => lease(item.Lease), _removed);
        foreach (var item in _removed)
        {
            oldestRemoved[item.Lease] = Math.Min(oldestRemoved[item.Lease], item.Sequence);
        }

        var removed = _removed.Count;
        _removed.Clear();
        AssertInvariants();
        return removed;
    }

    /// <summary>How many events of a leased partition members hold unacknowledged.</summary>
    public int InFlightOf(int lease) => _inFlightByLease[lease];

    /// <summary>The highest sequence of a leased partition ever handed to a member (0 if none).</summary>
    public long HandedOf(int lease) => _handedByLease[lease];

    /// <summary>
    /// Writes in <paramref name="oldest"/> (one slot per leased partition) the lowest sequence of each partition queued or
    /// in flight, or <see cref="long.MaxValue"/>: what each partition's acknowledged position is one before. Each queue
    /// holds a partition's events in sequence order, so only each partition's first there is looked at.
    /// </summary>
    public void OldestOutstanding(Span<long> oldest)
    {
        oldest.Fill(long.MaxValue);
        _read.FirstOfEach(oldest);
        if (_partitions is not null)
        {
            for (var p = 0; p < PartitionCount; p++)
            {
                if (_partitions.TryPeekQueued(p, out var first))
                {
                    oldest[first.Lease] = Math.Min(oldest[first.Lease], first.Sequence);
                }
            }
        }

        foreach (var item in _dispatcher.InFlightEvents)
        {
            oldest[item.Lease] = Math.Min(oldest[item.Lease], item.Sequence);
        }
    }

    /// <summary>
    /// Hands queued events to members with credits that <paramref name="canTake"/> (all, when null); <paramref name="deliver"/>
    /// gets each member's batch (in sequence order, at most a batch's worth of bytes). Returns how many were handed out.
    /// </summary>
    /// <param name="deliver">Gets each member's batch.</param>
    /// <param name="canTake">Whether a member may take more now.</param>
    /// <param name="handUpTo">No event above this sequence is handed (the mark its leases reserved, see
    /// <see cref="IGroupLeases"/>): the events above it wait.</param>
    public int Dispatch(Action<string, List<GroupItem>> deliver, Func<string, bool>? canTake = null, long handUpTo = long.MaxValue)
    {
        _canTake = canTake ?? (static _ => true);
        // The partition dispatcher queues what it was given: were the mark ever below what it holds (leases that may have
        // expired), nothing is handed.
        _deliver = _partitions is not null && handUpTo < _placedUpTo ? null : deliver;
        var before = _dispatcher.InFlight;
        try
        {
            while (true)
            {
                var count = _read.CountUpTo(handUpTo);
                if (_demand is not null)
                {
                    count = (int)Math.Min(count, _demand.TotalDemand); // no more than can be placed
                }

                if (count == 0 && (_partitions is null || _deliver is null))
                {
                    break;
                }

                var events = _read.Peek(count);
                var rest = _dispatcher.Dispatch(events, this, out _);
                var placed = count - rest.Length;
                if (placed > 0 && _partitions is not null)
                {
                    _placedUpTo = Math.Max(_placedUpTo, events[placed - 1].Sequence);
                }

                _read.RemoveFront(placed);
                if (placed == 0 || _read.Count == 0)
                {
                    break;
                }
            }
        }
        finally
        {
            _deliver = null;
        }

        AssertInvariants();
        return (int)(_dispatcher.InFlight - before);
    }

    /// <summary>
    /// The last sequence below which every event read is acknowledged: one before the oldest event queued or in flight,
    /// or <paramref name="readTo"/> when there is none.
    /// </summary>
    public long AcknowledgedPosition(long readTo)
    {
        Span<long> oldest = stackalloc long[PartitionCount];
        OldestOutstanding(oldest);
        var lowest = long.MaxValue;
        foreach (var sequence in oldest)
        {
            lowest = Math.Min(lowest, sequence);
        }

        return lowest == long.MaxValue ? readTo : lowest - 1;
    }

    /// <summary>A member's credits and in-flight count (zeros for an unknown member).</summary>
    public (long Credits, int InFlight) Describe(string memberId) =>
        _ids.TryGetValue(memberId, out var id)
            ? (_demand?.DemandOf(id) ?? _partitions!.DemandOf(id), _dispatcher.InFlightOf(id))
            : (0, 0);

    void IDispatchSink<GroupItem>.Deliver(long subscriberId, ReadOnlyMemory<GroupItem> events)
    {
        var batch = new List<GroupItem>(events.Length);
        foreach (var item in events.Span)
        {
            batch.Add(item);
            _inFlightByLease[item.Lease]++;
            _handedByLease[item.Lease] = Math.Max(_handedByLease[item.Lease], item.Sequence);
            HighestHanded = Math.Max(HighestHanded, item.Sequence);
        }

        _deliver!(_names[subscriberId], batch);
    }

    bool IDispatchSink<GroupItem>.CanTake(long subscriberId) => _deliver is not null && _canTake(_names[subscriberId]);

    void IDispatchSink<GroupItem>.Acknowledged(long subscriberId, ReadOnlySpan<GroupItem> events)
    {
        foreach (var item in events)
        {
            _inFlightByLease[item.Lease]--;
        }
    }

    /// <summary>A demand dispatcher's <c>max_demand</c> mismatch does not apply: a member's asks are acknowledgements
    /// too (a member that starts with no credits, <c>demand: "manual"</c>, asks for more than its first ask by design), so
    /// the report is not logged.</summary>
    void IDispatchSink<GroupItem>.Report(Hub.Stages.StageDiagnostic diagnostic)
    {
    }

    void IDispatchSink<GroupItem>.Gap(long subscriberId, long fromSequence, long toSequence) =>
        throw new UnreachableException("demand and partition dispatchers keep no cursor");

    void IDispatchSink<GroupItem>.Disconnect(long subscriberId, long fromSequence, long toSequence) =>
        throw new UnreachableException("demand and partition dispatchers keep no cursor");

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_inFlightByLease.Sum() == _dispatcher.InFlight, "the in-flight counts by lease match the dispatcher's");
        Debug.Assert(_inFlightByLease.All(n => n >= 0), "in-flight counts are never negative");
    }

    /// <summary>
    /// The events read from the log and not yet placed, in sequence order (an event read late, for a partition taken over
    /// late, or given back by a member that left, goes in its place): what a producer's buffer is to its dispatcher.
    /// </summary>
    private sealed class ReadBuffer
    {
        private readonly List<GroupItem> _items = [];
        private readonly int[] _byLease = new int[PartitionCount]; // items of each leased partition here
        private int _head;
        private int _leases; // leased partitions with items here

        public int Count => _items.Count - _head;

        private void Counted(int lease, int by)
        {
            var before = _byLease[lease];
            _byLease[lease] += by;
            _leases += (before == 0 ? 1 : 0) - (_byLease[lease] == 0 ? 1 : 0);
        }

        /// <summary>Puts an item in sequence order (usually at the end).</summary>
        public void Insert(GroupItem item)
        {
            var index = _items.Count;
            while (index > _head && _items[index - 1].Sequence > item.Sequence)
            {
                index--;
            }

            _items.Insert(index, item);
            Counted(item.Lease, 1);
        }

        /// <summary>Merges items (in any order) into their places.</summary>
        public void Merge(ReadOnlySpan<GroupItem> items)
        {
            if (items.IsEmpty)
            {
                return;
            }

            var merged = new List<GroupItem>(Count + items.Length);
            merged.AddRange(_items.Skip(_head));
            merged.AddRange(items);
            merged.Sort(BySequence);
            foreach (var item in items)
            {
                Counted(item.Lease, 1);
            }

            _items.Clear();
            _items.AddRange(merged);
            _head = 0;
        }

        /// <summary>How many items from the front have sequences at or below <paramref name="sequence"/>.</summary>
        public int CountUpTo(long sequence)
        {
            if (Count == 0 || _items[^1].Sequence <= sequence)
            {
                return Count;
            }

            var count = 0;
            while (count < Count && _items[_head + count].Sequence <= sequence)
            {
                count++;
            }

            return count;
        }

        /// <summary>A copy of the first <paramref name="count"/> items (the dispatcher may keep it).</summary>
        public GroupItem[] Peek(int count) => CollectionsMarshal.AsSpan(_items).Slice(_head, count).ToArray();

        public void RemoveFront(int count)
        {
            for (var i = 0; i < count; i++)
            {
                Counted(_items[_head + i].Lease, -1);
            }

            _head += count;
            if (_head == _items.Count)
            {
                _items.Clear();
                _head = 0;
            }
            else if (_head > 1024 && _head > _items.Count / 2)
            {
                _items.RemoveRange(0, _head);
                _head = 0;
            }
        }

        /// <summary>Removes the items <paramref name="match"/> selects, keeping the others' order; adds them to <paramref name="removed"/>.</summary>
        public void RemoveWhere(Func<GroupItem, bool> match, List<GroupItem> removed)
        {
            var kept = _head;
            for (var i = _head; i < _items.Count; i++)
            {
                if (match(_items[i]))
                {
                    removed.Add(_items[i]);
                    Counted(_items[i].Lease, -1);
                }
                else
                {
                    _items[kept++] = _items[i];
                }
            }

            _items.RemoveRange(kept, _items.Count - kept);
        }

        /// <summary>Lowers each leased partition's slot in <paramref name="oldest"/> to the sequence of its first item here
        /// (its lowest: the items are in order), stopping once every partition was found.</summary>
        public void FirstOfEach(Span<long> oldest)
        {
            Span<bool> found = stackalloc bool[PartitionCount];
            var left = _leases;
            for (var i = _head; i < _items.Count && left > 0; i++)
            {
                var item = _items[i];
                if (!found[item.Lease])
                {
                    found[item.Lease] = true;
                    left--;
                    oldest[item.Lease] = Math.Min(oldest[item.Lease], item.Sequence);
                }
            }
        }
    }
}
