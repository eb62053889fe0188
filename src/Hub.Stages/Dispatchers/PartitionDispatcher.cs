using System.Diagnostics;
using Hub.Stages.Runtime;
using Hub.Stages.Subscriptions;

namespace Hub.Stages.Dispatchers;

/// <summary>
/// Routes each event to one of a fixed set of partitions by a hash; each partition has one subscriber at a time
/// (GenStage's <c>PartitionDispatcher</c>).
/// </summary>
/// <remarks>
/// <para>
/// Upstream demand is the sum of the subscribers' asks. A dispatch takes as many events as were asked for in all;
/// an event the hash drops (returns <see langword="null"/>) uses no demand; the rest go back to the producer.
/// Subscribers choose their partition with <see cref="SubscriptionOptions{T}.Partition"/>.
/// </para>
/// <para>
/// A partition without demand (or without a subscriber) keeps its events in its own queue, and they go first, in
/// order, when it asks. <b>How it differs from GenStage.</b> In GenStage those queued events use up demand that other
/// partitions asked for, and the producer is not asked again for it, so one idle partition soon holds every other
/// (each is left waiting for events that went to the idle one's queue). Here the demand such events used is asked
/// for again at once, as the broadcast credits back filtered-out events: the upstream demand in flight always covers
/// the subscribers' unmet demand, so an idle partition does not slow the others. Its queue is bounded by
/// <see cref="MaxQueued"/>: once one partition has that many events waiting, no more demand goes upstream (GenStage's
/// back-pressure) until it asks or its subscriber is replaced.
/// </para>
/// <para>
/// <b>Dealt partitions</b> (<c>dealPartitions: true</c>; not in GenStage, where each subscriber names its one partition):
/// subscribers name none, and the partitions are dealt round-robin over them in subscription order, dealt again whenever
/// one comes or goes, so a few subscribers share many partitions (a hub's group: 64 partitions, any number of members).
/// A subscriber's demand is then shared by its partitions: each dispatch visits the partitions from a point that moves
/// on by one each time (so none is always last) and hands each subscriber one batch, merged over its partitions and put
/// in <c>order</c>. GenStage fixes the partition count to the subscriber count, which a group whose members come and go
/// cannot.
/// </para>
/// <para>
/// <b>Hand-over after acknowledgement.</b> Inside an <see cref="AcknowledgingDispatcher{T}"/>, a partition whose events
/// a subscriber still holds unacknowledged is that subscriber's until they are acknowledged or returned (the subscriber
/// left): a partition dealt to another waits until then, so one key is never held by two subscribers and its events stay
/// in order. Returned events go back to the front of their partitions' queues.
/// </para>
/// <para>
/// A <see cref="BatchLimit{T}"/> ends a subscriber's batch early, and a subscriber the sink says cannot take now
/// (<see cref="IDispatchSink{T}.CanTake"/>) is passed over, its partitions waiting for it; with neither, and fixed
/// partitions, it is GenStage's dispatcher with the demand difference above.
/// </para>
/// </remarks>
/// <typeparam name="T">The event type.</typeparam>
public sealed class PartitionDispatcher<T> : IDispatcher<T>, IAcknowledgementAware<T>
{
    private readonly Func<T, int?> _hash;
    private readonly Partition[] _partitions;
    private readonly Dictionary<long, Subscriber> _byId = [];
    private readonly List<Subscriber> _subscribers = []; // in subscription order
    private readonly bool _deal;
    private readonly IComparer<T>? _order;
    private readonly BatchLimit<T>? _batchLimit;
    private bool _acknowledged; // inside an AcknowledgingDispatcher: partitions are held until acknowledged
    private long _waiting;      // demand forwarded upstream and not yet matched by events
    private int _queued;
    private int _nextStart;
    private int _pass;                                   // numbers each pass over the partitions
    private readonly List<Subscriber> _taking = [];      // the subscribers taking in this pass, in the order first met

    /// <summary>The default bound of a partition's queue: 10,000 events.</summary>
    public const int DefaultMaxQueued = 10_000;

    /// <summary>Creates a dispatcher.</summary>
    /// <param name="partitions">How many partitions (numbered from 0).</param>
    /// <param name="hash">
    /// The partition of an event, or <see langword="null"/> to drop it; default the event's hash code modulo
    /// <paramref name="partitions"/>.
    /// </param>
    /// <param name="maxQueued">
    /// How many events may wait for one partition before upstream demand stops (at least 1; default
    /// <see cref="DefaultMaxQueued"/>). A queue may pass it by up to one dispatch's events.
    /// </param>
    /// <param name="dealPartitions">Subscribers name no partition: the partitions are dealt round-robin over them.</param>
    /// <param name="order">The order of a batch merged over several partitions (dealt partitions); none by default.</param>
    /// <param name="batchLimit">Ends a batch early by its events' sizes; none by default.</param>
    public PartitionDispatcher(
        int partitions,
        Func<T, int?>? hash = null,
        int maxQueued = DefaultMaxQueued,
        bool dealPartitions = false,
        IComparer<T>? order = null,
        BatchLimit<T>? batchLimit = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxQueued, 1);
        MaxQueued = maxQueued;
        _deal = dealPartitions;
        _order = order;
        _batchLimit = batchLimit;
        _partitions = new Partition[partitions];
        for (int i = 0; i < partitions; i++)
        {
            _partitions[i] = new Partition(i);
        }

        _hash = hash ?? (item => item is null ? 0 : (item.GetHashCode() & int.MaxValue) % partitions);
    }

    /// <summary>How many events may wait for one partition before upstream demand stops.</summary>
    public int MaxQueued { get; }

    /// <summary>The number of partitions.</summary>
    public int PartitionCount => _partitions.Length;

    /// <summary>How many events wait in all partitions' queues.</summary>
    public int Queued => _queued;

    /// <summary>The demand of all subscribers, not yet met.</summary>
    public long TotalDemand
    {
        get
        {
            long total = 0;
            foreach (Subscriber subscriber in _subscribers)
            {
                total = total > long.MaxValue - subscriber.Demand ? long.MaxValue : total + subscriber.Demand;
            }

            return total;
        }
    }

    /// <summary>The unmet demand of a subscriber, or -1 when it is not subscribed.</summary>
    public long DemandOf(long subscriberId) => _byId.TryGetValue(subscriberId, out Subscriber? subscriber) ? subscriber.Demand : -1;

    /// <summary>How many events wait in a partition's queue.</summary>
    public int QueuedIn(int partition) => _partitions[partition].Queue.Count;

    /// <summary>The first event waiting in a partition's queue (its oldest), if any.</summary>
    public bool TryPeekQueued(int partition, out T first)
    {
        EventBuffer<T> queue = _partitions[partition].Queue;
        first = queue.Count > 0 ? queue[0] : default!;
        return queue.Count > 0;
    }

    /// <summary>The subscriber a partition is subscribed by or dealt to, or null.</summary>
    public long? SubscriberOf(int partition) => _partitions[partition].Subscriber?.Id;

    /// <summary>
    /// The partition of an event (the hash, checked), or <see langword="null"/> when the hash drops it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The hash returned a partition out of range.</exception>
    public int? PartitionOf(T item)
    {
        int? index = _hash(item);
        if (index is not null && (index < 0 || index >= _partitions.Length))
        {
            throw new InvalidOperationException($"The hash returned partition {index}; partitions are 0 to {_partitions.Length - 1}.");
        }

        return index;
    }

    /// <inheritdoc/>
    public long Subscribe(long subscriberId, SubscriptionOptions<T> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (_byId.ContainsKey(subscriberId))
        {
            throw new ArgumentException($"Subscriber {subscriberId} is already subscribed.", nameof(subscriberId));
        }

        var subscriber = new Subscriber(subscriberId);
        if (_deal)
        {
            _byId.Add(subscriberId, subscriber);
            _subscribers.Add(subscriber);
            Deal();
            AssertInvariants();
            return 0;
        }

        int index = options.Partition ?? throw new ArgumentException($"Partition must be set, between 0 and {_partitions.Length - 1}.", nameof(options));
        if (index < 0 || index >= _partitions.Length)
        {
            throw new ArgumentException($"Partition must be between 0 and {_partitions.Length - 1} (got {index}).", nameof(options));
        }

        Partition partition = _partitions[index];
        if (partition.Subscriber is not null)
        {
            throw new ArgumentException($"Partition {index} already has a subscriber.", nameof(options));
        }

        _byId.Add(subscriberId, subscriber);
        _subscribers.Add(subscriber);
        partition.Subscriber = subscriber;
        subscriber.Partition = index;
        AssertInvariants();
        return 0;
    }

    /// <inheritdoc/>
    public long Ask(long subscriberId, long count, IDispatchSink<T> sink)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentNullException.ThrowIfNull(sink);
        if (!_byId.TryGetValue(subscriberId, out Subscriber? subscriber))
        {
            return 0;
        }

        subscriber.Demand = subscriber.Demand > long.MaxValue - count ? long.MaxValue : subscriber.Demand + count;
        DeliverQueued(sink, subscriber.Partition); // a fixed partition's subscriber: only its own partition may move
        long demand = Forward();
        AssertInvariants();
        return demand;
    }

    /// <inheritdoc/>
    public long Cancel(long subscriberId)
    {
        if (_byId.Remove(subscriberId, out Subscriber? subscriber))
        {
            // Its queued events stay for the partition's next subscriber.
            _subscribers.Remove(subscriber);
            foreach (Partition partition in _partitions)
            {
                if (partition.Subscriber == subscriber)
                {
                    partition.Subscriber = null;
                }
            }

            if (_deal)
            {
                Deal();
            }
        }

        AssertInvariants();
        return 0;
    }

    /// <inheritdoc/>
    public ReadOnlyMemory<T> Dispatch(ReadOnlyMemory<T> events, IDispatchSink<T> sink, out long demand)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ReadOnlySpan<T> span = events.Span;
        int taken = 0;
        while (taken < span.Length && _waiting > 0)
        {
            T item = span[taken++];
            if (PartitionOf(item) is not int index)
            {
                continue;
            }

            _partitions[index].Queue.TryPushBack(item); // unbounded: the bound is on demand
            _queued++;
            _waiting--;
        }

        DeliverQueued(sink);
        demand = Forward();
        AssertInvariants();
        return events[taken..];
    }

    /// <summary>
    /// Takes out of the queues (never out of subscribers' hands) the events <paramref name="match"/> selects, keeping the
    /// others' order, and adds them to <paramref name="removed"/>: the owner takes them back (a hub node handing a
    /// partition's lease to another). Returns the demand to forward: what they had used is asked for again.
    /// </summary>
    public long RemoveQueued(Func<T, bool> match, List<T> removed)
    {
        ArgumentNullException.ThrowIfNull(match);
        ArgumentNullException.ThrowIfNull(removed);
        foreach (Partition partition in _partitions)
        {
            _queued -= partition.Queue.RemoveWhere(match, removed);
        }

        long demand = Forward();
        AssertInvariants();
        return demand;
    }

    void IAcknowledgementAware<T>.UseAcknowledgements() => _acknowledged = true;

    void IAcknowledgementAware<T>.Acknowledged(long subscriberId, ReadOnlySpan<T> events)
    {
        foreach (T item in events)
        {
            if (PartitionOf(item) is int index)
            {
                Release(_partitions[index], subscriberId, 1);
            }
        }

        AssertInvariants();
    }

    bool IAcknowledgementAware<T>.Return(long subscriberId, ReadOnlySpan<T> events)
    {
        // Back to the front of each partition's queue, in their order: they are older than anything queued behind them.
        for (int i = events.Length - 1; i >= 0; i--)
        {
            if (PartitionOf(events[i]) is int index)
            {
                Partition partition = _partitions[index];
                partition.Queue.PushFront(new ReadOnlySpan<T>(in events[i]));
                _queued++;
                Release(partition, subscriberId, 1);
            }
        }

        AssertInvariants();
        return true;
    }

    private static void Release(Partition partition, long subscriberId, int count)
    {
        if (partition.Holder == subscriberId)
        {
            partition.Held -= count;
            if (partition.Held <= 0)
            {
                partition.Holder = null;
                partition.Held = 0;
            }
        }
    }

    /// <summary>Deals the partitions round-robin over the subscribers in subscription order.</summary>
    private void Deal()
    {
        for (int p = 0; p < _partitions.Length; p++)
        {
            _partitions[p].Subscriber = _subscribers.Count == 0 ? null : _subscribers[p % _subscribers.Count];
        }
    }

    /// <summary>
    /// Tops the demand in flight up to the subscribers' unmet demand, so events queued for an idle partition do not
    /// leave the others waiting; nothing while a queue is at its bound.
    /// </summary>
    private long Forward()
    {
        long unmet = TotalDemand;
        if (unmet <= _waiting)
        {
            return 0;
        }

        foreach (Partition partition in _partitions)
        {
            if (partition.Queue.Count >= MaxQueued)
            {
                return 0;
            }
        }

        long demand = unmet - _waiting;
        _waiting += demand;
        return demand;
    }

    /// <summary>
    /// One pass over the partitions: each subscriber with demand that the sink lets take gets one batch of its
    /// partitions' queued events, up to its demand and the batch limit.
    /// </summary>
    /// <param name="sink">Receives the batches.</param>
    /// <param name="only">One partition to visit (the others cannot have changed), or -1 for all.</param>
    private void DeliverQueued(IDispatchSink<T> sink, int only = -1)
    {
        if (_queued == 0)
        {
            return;
        }

        _pass++;
        int start = only >= 0 ? only : _deal ? _nextStart : 0;
        int visits = only >= 0 ? 1 : _partitions.Length;
        _nextStart = (_nextStart + 1) % _partitions.Length;
        for (int n = 0; n < visits; n++)
        {
            Partition partition = _partitions[(start + n) % _partitions.Length];
            if (partition.Subscriber is not { } subscriber || subscriber.Demand == 0 || partition.Queue.Count == 0)
            {
                continue;
            }

            if (partition.Holder is long holder && holder != subscriber.Id)
            {
                continue; // its previous subscriber still holds some of its events: wait, so they are never at two
            }

            if (subscriber.Pass != _pass)
            {
                // First of its partitions in this pass: may it take now? Asked once per pass.
                subscriber.Pass = _pass;
                subscriber.TakesThisPass = sink.CanTake(subscriber.Id);
                subscriber.BatchSize = 0;
                subscriber.BatchPartitions = 0;
                if (subscriber.TakesThisPass)
                {
                    _taking.Add(subscriber);
                }
            }

            if (!subscriber.TakesThisPass || (_batchLimit is not null && subscriber.BatchSize >= _batchLimit.MaxSize))
            {
                continue; // it cannot take now, or this pass's batch is full: its partitions wait
            }

            int taken;
            if (_batchLimit is null)
            {
                // Bounded by demand only: one copy out of the queue, kept as is when it is the whole batch.
                T[] events = partition.Queue.TakeFront((int)Math.Min(subscriber.Demand, partition.Queue.Count));
                taken = events.Length;
                if (subscriber.Single is null && subscriber.Batch.Count == 0)
                {
                    subscriber.Single = events;
                }
                else
                {
                    if (subscriber.Single is not null)
                    {
                        subscriber.Batch.AddRange(subscriber.Single);
                        subscriber.Single = null;
                    }

                    subscriber.Batch.AddRange(events);
                }
            }
            else
            {
                taken = 0;
                while (taken < subscriber.Demand && partition.Queue.Count > 0 && subscriber.BatchSize < _batchLimit.MaxSize)
                {
                    T item = partition.Queue.PopFront();
                    subscriber.Batch.Add(item);
                    subscriber.BatchSize += _batchLimit.Size(item);
                    taken++;
                }
            }

            subscriber.Demand -= taken;
            _queued -= taken;
            subscriber.BatchPartitions++;
            if (_acknowledged)
            {
                partition.Holder = subscriber.Id;
                partition.Held += taken;
            }
        }

        foreach (Subscriber subscriber in _taking)
        {
            T[]? events = subscriber.Single;
            subscriber.Single = null;
            if (events is null)
            {
                List<T> batch = subscriber.Batch;
                if (batch.Count == 0)
                {
                    continue;
                }

                if (subscriber.BatchPartitions > 1 && _order is not null)
                {
                    batch.Sort(_order);
                }

                events = batch.ToArray();
                batch.Clear();
            }

            sink.Deliver(subscriber.Id, events);
        }

        _taking.Clear();
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_waiting >= 0, "waiting demand is never negative");
        Debug.Assert(_queued == _partitions.Sum(partition => partition.Queue.Count), "the queued count matches the queues");
        foreach (Partition partition in _partitions)
        {
            Debug.Assert(partition.Holder is null == (partition.Held == 0), "a partition has a holder exactly while some of its events are held");
        }

        foreach (Subscriber subscriber in _subscribers)
        {
            Debug.Assert(subscriber.Demand >= 0, "demand is never negative");
        }

        Debug.Assert(
            _partitions.Any(partition => partition.Queue.Count >= MaxQueued) || _waiting >= TotalDemand,
            "unless a queue is at its bound, the demand in flight covers the subscribers' unmet demand");
    }

    private sealed class Subscriber(long id)
    {
        public long Id { get; } = id;

        public long Demand { get; set; }

        /// <summary>Its fixed partition, or -1 when partitions are dealt.</summary>
        public int Partition { get; set; } = -1;

        /// <summary>This pass's batch when it came from one partition whole (no copy needed).</summary>
        public T[]? Single { get; set; }

        /// <summary>This pass's batch, merged over its partitions (reused: emptied when delivered).</summary>
        public List<T> Batch { get; } = [];

        public long BatchSize { get; set; }

        public int BatchPartitions { get; set; }

        public int Pass { get; set; }

        public bool TakesThisPass { get; set; }
    }

    private sealed class Partition(int index)
    {
        public int Index { get; } = index;

        public Subscriber? Subscriber { get; set; }

        public long? Holder { get; set; }

        public int Held { get; set; }

        public EventBuffer<T> Queue { get; } = new(int.MaxValue, BufferKeep.First);
    }
}
