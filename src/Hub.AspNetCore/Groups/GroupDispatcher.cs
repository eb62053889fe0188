using System.Diagnostics;
using Hub.Log;

namespace Hub.Server.Groups;

/// <summary>
/// A group's dispatcher: which member gets which event, what each member holds unacknowledged, and what goes back when a
/// member leaves. A pure state machine in the manner of Hub.Stages' dispatchers: no awaits, locks or I/O; the
/// <see cref="Group"/> that owns one serialises every call.
/// </summary>
/// <remarks>
/// <para>Events wait in queues until a member can take them: one queue in a demand group, <see cref="PartitionCount"/>
/// in a partition group (an event's queue is the hash of its key; an event without a key is spread by its sequence).
/// <b>Demand</b>: the member with the most credits takes as many as its credits allow, then the next (ties keep join
/// order), as GenStage's DemandDispatcher serves the largest demand first. <b>Partition</b>: each partition has one
/// owner, assigned round-robin over the members in join order and reassigned when members join or leave. A partition
/// that changes owner while its old owner still holds some of its events unacknowledged waits until they are
/// acknowledged or redelivered, so an event is never held by two members and a key's events stay in order.</para>
/// <para>Each handed event uses one credit and stays in the member's in-flight list until acknowledged:
/// <see cref="Ask"/> acknowledges the member's n oldest. When a member leaves, its in-flight events go back to the front
/// of their queues, marked redelivered, in sequence order.</para>
/// <para>A batch stops growing once its events' JSON reaches <c>maxBatchBytes</c> (it holds at least one event), and a
/// member the owner says cannot take more now (its outbox still holds a batch's worth of bytes unsent) is passed over
/// as if it had no credits: what a member holds unsent is bounded by its credits and by bytes.</para>
/// </remarks>
internal sealed class GroupDispatcher
{
    /// <summary>How many partitions a partition group hashes keys into.</summary>
    public const int PartitionCount = 64;

    private readonly GroupDispatchMode _mode;
    private readonly int _maxBatchBytes;
    private readonly List<Member> _members = [];
    private readonly Dictionary<string, Member> _byId = new(StringComparer.Ordinal);
    private readonly ItemQueue[] _queues;
    private readonly Member?[] _owners;
    private readonly Member?[] _holders;     // the member holding a partition's in-flight events, if any
    private readonly int[] _heldCounts;      // how many of a partition's events its holder has in flight
    private long _queued;
    private int _nextPartition;              // where the next partition pass starts, so no partition is always last

    public GroupDispatcher(GroupDispatchMode mode, int maxBatchBytes = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchBytes, 1);
        _mode = mode;
        _maxBatchBytes = maxBatchBytes;
        var queues = mode == GroupDispatchMode.Partition ? PartitionCount : 1;
        _queues = new ItemQueue[queues];
        for (var i = 0; i < queues; i++)
        {
            _queues[i] = new ItemQueue();
        }

        _owners = new Member?[queues];
        _holders = new Member?[queues];
        _heldCounts = new int[queues];
    }

    /// <summary>The members, in join order.</summary>
    public int MemberCount => _members.Count;

    /// <summary>Events read from the log and not yet handed to a member.</summary>
    public long Queued => _queued;

    /// <summary>Events handed to members and not yet acknowledged.</summary>
    public long InFlight => _members.Sum(m => (long)m.InFlight.Count);

    /// <summary>Credits held by all members.</summary>
    public long TotalCredits => _members.Sum(m => m.Credits);

    /// <summary>The queue an event belongs to.</summary>
    public int PartitionOf(LogEntry entry)
    {
        if (_mode == GroupDispatchMode.Demand)
        {
            return 0;
        }

        if (entry.Key is not { } key)
        {
            return (int)(entry.Sequence % PartitionCount);
        }

        // FNV-1a over the key's characters: stable across processes (string.GetHashCode is not), cheap, no allocation.
        var hash = 2166136261u;
        foreach (var c in key)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % PartitionCount);
    }

    /// <summary>Adds a member with <paramref name="credits"/> credits.</summary>
    public void Join(string memberId, long credits)
    {
        var member = new Member(memberId) { Credits = credits };
        _byId.Add(memberId, member);
        _members.Add(member);
        Rebalance();
        AssertInvariants();
    }

    /// <summary>Removes a member; its unacknowledged events go back to their queues, marked redelivered. Returns how many.</summary>
    public int Leave(string memberId)
    {
        if (!_byId.Remove(memberId, out var member))
        {
            return 0;
        }

        _members.Remove(member);
        var returned = member.InFlight.Count;
        if (returned > 0)
        {
            // Back to the front of each queue, in sequence order: they are older than anything still queued there.
            foreach (var group in member.InFlight.GroupBy(i => i.Partition))
            {
                _queues[group.Key].PushFront(group.Select(i => i with { Redelivered = true }).OrderBy(i => i.Sequence));
                if (_holders[group.Key] == member)
                {
                    _holders[group.Key] = null;
                    _heldCounts[group.Key] = 0;
                }
            }

            _queued += returned;
            member.InFlight.Clear();
        }

        Rebalance();
        AssertInvariants();
        return returned;
    }

    /// <summary>
    /// Grants <paramref name="credits"/> to a member and acknowledges its <paramref name="credits"/> oldest events in
    /// flight (all of them if it holds fewer). Returns how many were acknowledged; unknown members are ignored.
    /// </summary>
    public int Ask(string memberId, long credits)
    {
        if (!_byId.TryGetValue(memberId, out var member))
        {
            return 0;
        }

        var acknowledged = (int)Math.Min(credits, member.InFlight.Count);
        for (var i = 0; i < acknowledged; i++)
        {
            var item = member.InFlight.Dequeue();
            if (_holders[item.Partition] == member && --_heldCounts[item.Partition] == 0)
            {
                _holders[item.Partition] = null;
            }
        }

        member.Credits = member.Credits > long.MaxValue - credits ? long.MaxValue : member.Credits + credits;
        AssertInvariants();
        return acknowledged;
    }

    /// <summary>The highest sequence ever handed to a member.</summary>
    public long HighestHanded { get; private set; }

    /// <summary>
    /// Queues events read from the log, in sequence order. Those at or below <paramref name="handedBefore"/> were handed
    /// out before the group last stopped (and not acknowledged): they are marked redelivered.
    /// </summary>
    public void Offer(List<LogEntry> entries, long handedBefore)
    {
        foreach (var entry in entries)
        {
            var partition = PartitionOf(entry);
            _queues[partition].PushBack(new GroupItem(entry, partition, Redelivered: entry.Sequence <= handedBefore));
        }

        _queued += entries.Count;
    }

    /// <summary>
    /// Hands queued events to members with credits that <paramref name="canTake"/> (all, when null); <paramref name="deliver"/>
    /// gets each member's batch (in sequence order within a queue, at most a batch's worth of bytes). Returns how many were
    /// handed out.
    /// </summary>
    public int Dispatch(Action<string, List<GroupItem>> deliver, Func<string, bool>? canTake = null)
    {
        canTake ??= static _ => true;
        var handed = _mode == GroupDispatchMode.Demand ? DispatchByDemand(deliver, canTake) : DispatchByPartition(deliver, canTake);
        AssertInvariants();
        return handed;
    }

    /// <summary>
    /// The last sequence below which every event read is acknowledged: one before the oldest event queued or in flight,
    /// or <paramref name="readTo"/> when there is none.
    /// </summary>
    public long AcknowledgedPosition(long readTo)
    {
        var oldest = long.MaxValue;
        foreach (var queue in _queues)
        {
            if (queue.Count > 0)
            {
                oldest = Math.Min(oldest, queue.Peek().Sequence);
            }
        }

        foreach (var member in _members)
        {
            foreach (var item in member.InFlight)
            {
                oldest = Math.Min(oldest, item.Sequence);
            }
        }

        return oldest == long.MaxValue ? readTo : oldest - 1;
    }

    /// <summary>A member's credits and in-flight count (zeros for an unknown member).</summary>
    public (long Credits, int InFlight) Describe(string memberId) =>
        _byId.TryGetValue(memberId, out var member) ? (member.Credits, member.InFlight.Count) : (0, 0);

    private int DispatchByDemand(Action<string, List<GroupItem>> deliver, Func<string, bool> canTake)
    {
        var queue = _queues[0];
        var handed = 0;
        while (queue.Count > 0)
        {
            Member? best = null;
            foreach (var member in _members)
            {
                if (member.Credits > 0 && (best is null || member.Credits > best.Credits) && canTake(member.Id))
                {
                    best = member;
                }
            }

            if (best is null)
            {
                break;
            }

            var batch = new List<GroupItem>((int)Math.Min(best.Credits, Math.Min(queue.Count, 1024)));
            var bytes = 0;
            handed += Take(best, queue, (int)Math.Min(best.Credits, queue.Count), batch, ref bytes);
            deliver(best.Id, batch);
        }

        Debug.Assert(queue.Count == 0 || _members.All(m => m.Credits == 0 || !canTake(m.Id)), "no idle credit while events wait");
        return handed;
    }

    private int DispatchByPartition(Action<string, List<GroupItem>> deliver, Func<string, bool> canTake)
    {
        // One batch per member per pass, merged over its partitions (up to a batch's worth of bytes) and sorted, so every
        // batch is in sequence order.
        Dictionary<Member, PassBatch>? batches = null;
        var handed = 0;
        var start = _nextPartition;
        _nextPartition = (_nextPartition + 1) % PartitionCount;
        for (var n = 0; n < PartitionCount; n++)
        {
            var p = (start + n) % PartitionCount;
            var queue = _queues[p];
            var owner = _owners[p];
            if (queue.Count == 0 || owner is null || owner.Credits == 0)
            {
                continue;
            }

            if (_holders[p] is { } holder && holder != owner)
            {
                continue; // its previous owner still holds some of its events: wait, so a key is never at two members
            }

            batches ??= [];
            if (!batches.TryGetValue(owner, out var batch))
            {
                if (!canTake(owner.Id))
                {
                    continue; // its outbox is full: the partition waits for it, as for credits
                }

                batches[owner] = batch = new PassBatch();
            }

            if (batch.Bytes >= _maxBatchBytes)
            {
                continue; // this pass's batch for the owner is full; the next pass goes on
            }

            var count = Take(owner, queue, (int)Math.Min(owner.Credits, queue.Count), batch.Items, ref batch.Bytes);
            _holders[p] = owner;
            _heldCounts[p] += count;
            handed += count;
        }

        if (batches is not null)
        {
            foreach (var (member, batch) in batches)
            {
                batch.Items.Sort(static (x, y) => x.Sequence.CompareTo(y.Sequence));
                deliver(member.Id, batch.Items);
            }
        }

        return handed;
    }

    /// <summary>
    /// Moves up to <paramref name="count"/> events from the front of a queue to a member's in-flight list and batch,
    /// stopping once the batch's bytes (<paramref name="bytes"/>, counted on) reach a batch's worth. Takes at least one
    /// when <paramref name="bytes"/> is below that. Returns how many it took.
    /// </summary>
    private int Take(Member member, ItemQueue queue, int count, List<GroupItem> batch, ref int bytes)
    {
        var taken = 0;
        while (taken < count && bytes < _maxBatchBytes)
        {
            var item = queue.PopFront();
            batch.Add(item);
            member.InFlight.Enqueue(item);
            HighestHanded = Math.Max(HighestHanded, item.Sequence);
            bytes = (int)Math.Min(int.MaxValue, (long)bytes + item.Entry.Json.Length);
            taken++;
        }

        member.Credits -= taken;
        _queued -= taken;
        return taken;
    }

    private void Rebalance()
    {
        if (_mode != GroupDispatchMode.Partition)
        {
            return;
        }

        for (var p = 0; p < PartitionCount; p++)
        {
            _owners[p] = _members.Count == 0 ? null : _members[p % _members.Count];
        }
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_members.All(m => m.Credits >= 0), "credits are never negative");
        Debug.Assert(_queued == _queues.Sum(q => (long)q.Count), "the queued count matches the queues");
        for (var p = 0; p < _queues.Length; p++)
        {
            Debug.Assert(_holders[p] is null == (_heldCounts[p] == 0), "a partition has a holder exactly while some of its events are held");
        }
    }

    /// <summary>One member's batch in a partition pass, and its bytes so far.</summary>
    private sealed class PassBatch
    {
        public List<GroupItem> Items { get; } = [];

        public int Bytes;
    }

    private sealed class Member(string id)
    {
        public string Id { get; } = id;

        public long Credits { get; set; }

        public Queue<GroupItem> InFlight { get; } = new();
    }

    /// <summary>A FIFO over a growable ring buffer that can also take a run of items at its front (redeliveries).</summary>
    private sealed class ItemQueue
    {
        private GroupItem[] _buffer = new GroupItem[16];
        private int _head;

        public int Count { get; private set; }

        public GroupItem Peek() => _buffer[_head];

        public void PushBack(GroupItem item)
        {
            Grow(1);
            _buffer[(_head + Count) % _buffer.Length] = item;
            Count++;
        }

        public GroupItem PopFront()
        {
            var item = _buffer[_head];
            _buffer[_head] = default; // let the entry go
            _head = (_head + 1) % _buffer.Length;
            Count--;
            return item;
        }

        public void PushFront(IEnumerable<GroupItem> ordered)
        {
            var items = ordered.ToArray();
            Grow(items.Length);
            _head = (_head - items.Length + _buffer.Length) % _buffer.Length;
            for (var i = 0; i < items.Length; i++)
            {
                _buffer[(_head + i) % _buffer.Length] = items[i];
            }

            Count += items.Length;
        }

        private void Grow(int more)
        {
            if (Count + more <= _buffer.Length)
            {
                return;
            }

            var larger = new GroupItem[Math.Max(_buffer.Length * 2, Count + more)];
            for (var i = 0; i < Count; i++)
            {
                larger[i] = _buffer[(_head + i) % _buffer.Length];
            }

            _buffer = larger;
            _head = 0;
        }
    }
}
