using System.Diagnostics;
using Hub.Stages.Subscriptions;

namespace Hub.Stages.Dispatchers;

/// <summary>
/// Acknowledgements and redelivery around a <see cref="DemandDispatcher{T}"/> or <see cref="PartitionDispatcher{T}"/>:
/// every event handed to a subscriber stays in flight until acknowledged, and a subscriber that leaves gives its
/// unacknowledged events back, marked as redeliveries, to be dispatched again. A pure state machine like the dispatcher
/// it wraps: no awaits, locks or I/O; the owner serialises every call.
/// </summary>
/// <remarks>
/// <para><b>Acknowledging is asking.</b> <see cref="Ask"/> with <c>n</c> acknowledges the subscriber's <c>n</c> oldest
/// events in flight (all of them when it holds fewer), then adds <c>n</c> to its demand: a consumer that asks again for
/// what it has handled has finished with it (a hub group member's <c>Ask(n)</c>). What it holds is therefore bounded by
/// the demand it was granted.</para>
/// <para><b>Redelivery.</b> <see cref="Cancel"/> returns the subscriber's unacknowledged events, each passed through the
/// <c>redelivered</c> function (which marks it), in the order they were handed. A <see cref="PartitionDispatcher{T}"/>
/// takes them back itself, to the front of their partitions' queues, and holds each partition for its subscriber until
/// its events are acknowledged or returned (hand-over after acknowledgement); with a <see cref="DemandDispatcher{T}"/>,
/// which keeps no events, they are returned to the owner, which dispatches them before anything newer (as a producer
/// does its buffer).</para>
/// <para><b>Not in GenStage.</b> GenStage's subscribers are processes whose mailboxes never lose an event, so it has no
/// acknowledgements; a hub's group members are remote clients that may vanish holding events, and a group must hand those
/// to another member (at least once). Its <c>Cancel</c> therefore returns events, where <see cref="IDispatcher{T}"/>'s
/// returns only demand.</para>
/// </remarks>
/// <typeparam name="T">The event type.</typeparam>
public sealed class AcknowledgingDispatcher<T>
{
    private readonly IDispatcher<T> _inner;
    private readonly IAcknowledgementAware<T>? _aware;
    private readonly Func<T, T> _redelivered;
    private readonly Dictionary<long, Queue<T>> _inFlight = [];
    private readonly TrackingSink _tracking;
    private long _inFlightCount;

    /// <summary>Creates one around <paramref name="inner"/>, which it then owns (call it only through this).</summary>
    /// <param name="inner">The dispatcher that decides who gets which event.</param>
    /// <param name="redelivered">Marks an event handed again after its subscriber left without acknowledging it.</param>
    public AcknowledgingDispatcher(IDispatcher<T> inner, Func<T, T> redelivered)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(redelivered);
        _inner = inner;
        _redelivered = redelivered;
        _aware = inner as IAcknowledgementAware<T>;
        _aware?.UseAcknowledgements();
        _tracking = new TrackingSink(this);
    }

    /// <summary>The dispatcher inside (to read its state; change it only through this).</summary>
    public IDispatcher<T> Inner => _inner;

    /// <summary>Events handed to subscribers and not yet acknowledged.</summary>
    public long InFlight => _inFlightCount;

    /// <summary>How many events a subscriber holds unacknowledged (0 when unknown).</summary>
    public int InFlightOf(long subscriberId) => _inFlight.TryGetValue(subscriberId, out Queue<T>? held) ? held.Count : 0;

    /// <summary>The events a subscriber holds unacknowledged, oldest first (none when unknown).</summary>
    public IEnumerable<T> InFlightEventsOf(long subscriberId) => _inFlight.TryGetValue(subscriberId, out Queue<T>? held) ? held : [];

    /// <summary>Every event in flight, subscriber by subscriber, each one's oldest first.</summary>
    public IEnumerable<T> InFlightEvents
    {
        get
        {
            foreach (Queue<T> held in _inFlight.Values)
            {
                foreach (T item in held)
                {
                    yield return item;
                }
            }
        }
    }

    /// <summary>Adds a subscriber holding nothing. Returns the demand to forward.</summary>
    /// <exception cref="ArgumentException">The id is already subscribed.</exception>
    public long Subscribe(long subscriberId, SubscriptionOptions<T> options)
    {
        long demand = _inner.Subscribe(subscriberId, options);
        _inFlight.Add(subscriberId, new Queue<T>());
        return demand;
    }

    /// <summary>
    /// Acknowledges the subscriber's <paramref name="count"/> oldest events in flight (told to <paramref name="sink"/>),
    /// then adds <paramref name="count"/> to its demand. Returns the demand to forward. Unknown ids are ignored.
    /// </summary>
    public long Ask(long subscriberId, long count, IDispatchSink<T> sink)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentNullException.ThrowIfNull(sink);
        if (!_inFlight.TryGetValue(subscriberId, out Queue<T>? held))
        {
            return 0;
        }

        int acknowledged = (int)Math.Min(count, held.Count);
        if (acknowledged > 0)
        {
            var events = new T[acknowledged];
            for (int i = 0; i < acknowledged; i++)
            {
                events[i] = held.Dequeue();
            }

            _inFlightCount -= acknowledged;
            _aware?.Acknowledged(subscriberId, events);
            sink.Acknowledged(subscriberId, events);
        }

        long demand = _inner.Ask(subscriberId, count, _tracking.For(sink));
        AssertInvariants();
        return demand;
    }

    /// <summary>
    /// Removes a subscriber. Returns its unacknowledged events, marked redelivered, in the order it was handed them, for
    /// the owner to dispatch before anything newer: none when the dispatcher inside keeps them itself (a partition
    /// dispatcher queues them at the front of their partitions). <paramref name="demand"/> is the demand to forward.
    /// Unknown ids are ignored.
    /// </summary>
    public ReadOnlyMemory<T> Cancel(long subscriberId, out long demand)
    {
        demand = _inner.Cancel(subscriberId);
        if (!_inFlight.Remove(subscriberId, out Queue<T>? held) || held.Count == 0)
        {
            AssertInvariants();
            return ReadOnlyMemory<T>.Empty;
        }

        var returned = new T[held.Count];
        int i = 0;
        foreach (T item in held)
        {
            returned[i++] = _redelivered(item);
        }

        _inFlightCount -= returned.Length;
        AssertInvariants();
        return _aware?.Return(subscriberId, returned) == true ? ReadOnlyMemory<T>.Empty : returned;
    }

    /// <summary>
    /// Places events with subscribers through <paramref name="sink"/>; what it places is in flight until acknowledged.
    /// Returns the events it could not place (a suffix) and, in <paramref name="demand"/>, the demand to forward.
    /// </summary>
    public ReadOnlyMemory<T> Dispatch(ReadOnlyMemory<T> events, IDispatchSink<T> sink, out long demand)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ReadOnlyMemory<T> rest = _inner.Dispatch(events, _tracking.For(sink), out demand);
        AssertInvariants();
        return rest;
    }

    private void Handed(long subscriberId, ReadOnlySpan<T> events)
    {
        Queue<T> held = _inFlight[subscriberId];
        foreach (T item in events)
        {
            held.Enqueue(item);
        }

        _inFlightCount += events.Length;
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_inFlightCount == _inFlight.Values.Sum(held => (long)held.Count), "the in-flight count matches the subscribers'");
    }

    /// <summary>Records what the dispatcher inside hands out, then passes everything on to the owner's sink.</summary>
    private sealed class TrackingSink(AcknowledgingDispatcher<T> owner) : IDispatchSink<T>
    {
        private IDispatchSink<T> _outer = null!;

        public IDispatchSink<T> For(IDispatchSink<T> outer)
        {
            _outer = outer;
            return this;
        }

        public void Deliver(long subscriberId, ReadOnlyMemory<T> events)
        {
            owner.Handed(subscriberId, events.Span);
            _outer.Deliver(subscriberId, events);
        }

        public void Gap(long subscriberId, long fromSequence, long toSequence) => _outer.Gap(subscriberId, fromSequence, toSequence);

        public void Disconnect(long subscriberId, long fromSequence, long toSequence) => _outer.Disconnect(subscriberId, fromSequence, toSequence);

        public void Report(StageDiagnostic diagnostic) => _outer.Report(diagnostic);

        public bool CanTake(long subscriberId) => _outer.CanTake(subscriberId);

        public void Acknowledged(long subscriberId, ReadOnlySpan<T> events) => _outer.Acknowledged(subscriberId, events);
    }
}
