using System.Diagnostics;
using Hub.Stages.Subscriptions;

namespace Hub.Stages.Dispatchers;

/// <summary>
/// Routes each event to one of a fixed set of partitions by a hash, with exactly one subscriber per partition
/// (GenStage's <c>PartitionDispatcher</c>).
/// </summary>
/// <remarks>
/// <para>
/// Upstream demand is the sum of the partitions' asks. A dispatch takes as many events as were asked for in all;
/// an event the hash drops (returns <see langword="null"/>) uses no demand; the rest go back to the producer.
/// Subscribers choose their partition with <see cref="SubscriptionOptions{T}.Partition"/>.
/// </para>
/// <para>
/// A partition without demand (or without a subscriber) keeps its events in its own queue, and they go first, in
/// order, when it asks. <b>How it differs from GenStage.</b> In GenStage those queued events use up demand that other
/// partitions asked for, and the producer is not asked again for it, so one idle partition soon holds every other
/// (each is left waiting for events that went to the idle one's queue). Here the demand such events used is asked
/// for again at once, as the broadcast credits back filtered-out events: the upstream demand in flight always covers
/// the partitions' unmet demand, so an idle partition does not slow the others. Its queue is bounded by
/// <see cref="MaxQueued"/>: once one partition has that many events waiting, no more demand goes upstream (GenStage's
/// back-pressure) until it asks or its subscriber is replaced.
/// </para>
/// </remarks>
/// <typeparam name="T">The event type.</typeparam>
public sealed class PartitionDispatcher<T> : IDispatcher<T>
{
    private readonly Func<T, int?> _hash;
    private readonly Partition[] _partitions;
    private readonly Dictionary<long, Partition> _bySubscriber = [];
    private long _waiting; // demand forwarded upstream and not yet matched by events

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
    public PartitionDispatcher(int partitions, Func<T, int?>? hash = null, int maxQueued = DefaultMaxQueued)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxQueued, 1);
        MaxQueued = maxQueued;
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

    /// <summary>How many events wait in a partition's queue.</summary>
    public int QueuedIn(int partition) => _partitions[partition].Queue.Count;

    /// <inheritdoc/>
    public long Subscribe(long subscriberId, SubscriptionOptions<T> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        int index = options.Partition ?? throw new ArgumentException($"Partition must be set, between 0 and {_partitions.Length - 1}.", nameof(options));
        if (index < 0 || index >= _partitions.Length)
        {
            throw new ArgumentException($"Partition must be between 0 and {_partitions.Length - 1} (got {index}).", nameof(options));
        }

        Partition partition = _partitions[index];
        if (partition.SubscriberId is not null)
        {
            throw new ArgumentException($"Partition {index} already has a subscriber.", nameof(options));
        }

        if (!_bySubscriber.TryAdd(subscriberId, partition))
        {
            throw new ArgumentException($"Subscriber {subscriberId} is already subscribed.", nameof(subscriberId));
        }

        partition.SubscriberId = subscriberId;
        AssertInvariants();
        return 0;
    }

    /// <inheritdoc/>
    public long Ask(long subscriberId, long count, IDispatchSink<T> sink)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentNullException.ThrowIfNull(sink);
        if (!_bySubscriber.TryGetValue(subscriberId, out Partition? partition))
        {
            return 0;
        }

        partition.Demand += count;
        DeliverQueued(partition, sink);
        long demand = Forward();
        AssertInvariants();
        return demand;
    }

    /// <inheritdoc/>
    public long Cancel(long subscriberId)
    {
        if (_bySubscriber.Remove(subscriberId, out Partition? partition))
        {
            // Its queued events stay for the partition's next subscriber.
            partition.SubscriberId = null;
            partition.Demand = 0;
        }

        AssertInvariants();
        return 0;
    }

    /// <inheritdoc/>
    public ReadOnlyMemory<T> Dispatch(ReadOnlyMemory<T> events, IDispatchSink<T> sink, out long demand)
    {
        ArgumentNullException.ThrowIfNull(sink);
        demand = 0;
        ReadOnlySpan<T> span = events.Span;
        int taken = 0;
        while (taken < span.Length && _waiting > 0)
        {
            T item = span[taken++];
            int? index = _hash(item);
            if (index is null)
            {
                continue;
            }

            if (index < 0 || index >= _partitions.Length)
            {
                throw new InvalidOperationException($"The hash returned partition {index}; partitions are 0 to {_partitions.Length - 1}.");
            }

            _partitions[index.Value].Queue.Enqueue(item);
            _waiting--;
        }

        foreach (Partition partition in _partitions)
        {
            DeliverQueued(partition, sink);
        }

        demand = Forward();
        AssertInvariants();
        return events[taken..];
    }

    /// <summary>
    /// Tops the demand in flight up to the partitions' unmet demand, so events queued for an idle partition do not
    /// leave the others waiting; nothing while a queue is at its bound.
    /// </summary>
    private long Forward()
    {
        long unmet = 0;
        foreach (Partition partition in _partitions)
        {
            if (partition.Queue.Count >= MaxQueued)
            {
                return 0;
            }

            unmet += partition.Demand;
        }

        long demand = Math.Max(0, unmet - _waiting);
        _waiting += demand;
        return demand;
    }

    private static void DeliverQueued(Partition partition, IDispatchSink<T> sink)
    {
        if (partition.SubscriberId is not long id || partition.Demand == 0 || partition.Queue.Count == 0)
        {
            return;
        }

        var batch = new T[(int)Math.Min(partition.Demand, partition.Queue.Count)];
        for (int i = 0; i < batch.Length; i++)
        {
            batch[i] = partition.Queue.Dequeue();
        }

        partition.Demand -= batch.Length;
        sink.Deliver(id, batch);
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_waiting >= 0, "waiting demand is never negative");
        foreach (Partition partition in _partitions)
        {
            Debug.Assert(partition.Demand >= 0, "demand is never negative");
            Debug.Assert(partition.Demand == 0 || partition.Queue.Count == 0, "no idle demand while events wait");
        }

        Debug.Assert(
            _partitions.Any(partition => partition.Queue.Count >= MaxQueued) || _waiting >= _partitions.Sum(partition => partition.Demand),
            "unless a queue is at its bound, the demand in flight covers the partitions' unmet demand");
    }

    private sealed class Partition(int index)
    {
        public int Index { get; } = index;

        public long? SubscriberId { get; set; }

        public long Demand { get; set; }

        public Queue<T> Queue { get; } = new();
    }
}
