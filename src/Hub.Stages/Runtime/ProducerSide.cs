using System.Diagnostics;
using Hub.Stages.Dispatchers;
using Hub.Stages.Subscriptions;

namespace Hub.Stages.Runtime;

/// <summary>
/// The producer half of a stage: its subscribers, dispatcher, buffer and accumulated demand. Every method runs on
/// the owning stage's turn. It is the dispatcher's sink: deliveries become messages to the consumers.
/// </summary>
internal sealed class ProducerSide<T> : IDispatchSink<T>
{
    private readonly IProducerHost _host;
    private readonly IDispatcher<T> _dispatcher;
    private readonly EventBuffer<T> _buffer;
    private readonly Dictionary<long, Subscription<T>> _subscribers = [];
    private List<(Subscription<T> Subscription, long Count)>? _accumulated;
    private long _demand;          // demand returned by the dispatcher, not yet served
    private bool _pumping;
    private volatile int _bufferedCount;
    private long _dropped;

    public ProducerSide(Stage stage, IProducerHost host, IDispatcher<T> dispatcher, ProducerOptions options, int defaultBufferSize)
    {
        Stage = stage;
        _host = host;
        _dispatcher = dispatcher;
        _buffer = new EventBuffer<T>(options.ResolveBufferSize(defaultBufferSize), options.BufferKeep);
        if (options.Demand == ProducerDemand.Accumulate)
        {
            _accumulated = [];
        }
    }

    public Stage Stage { get; }

    public int BufferedCount => _bufferedCount;

    public long DroppedCount => Interlocked.Read(ref _dropped);

    public async ValueTask OnSubscribeAsync(Subscription<T> subscription, long initialDemand)
    {
        if (!_subscribers.TryAdd(subscription.Id, subscription))
        {
            return;
        }

        try
        {
            _demand += _dispatcher.Subscribe(subscription.Id, subscription.Options);
        }
        catch (ArgumentException error)
        {
            // A bad dispatcher option (e.g. a taken partition) fails the subscribe call, not the producer.
            _subscribers.Remove(subscription.Id);
            subscription.Consumer.Stage.Post(new SubscribeRejectedMessage<T>(subscription, error));
            return;
        }

        if (initialDemand > 0)
        {
            Ask(subscription, initialDemand);
        }

        subscription.MarkRegistered();
        await PumpAsync().ConfigureAwait(false);
    }

    public ValueTask OnAskAsync(Subscription<T> subscription, long count)
    {
        if (!_subscribers.ContainsKey(subscription.Id))
        {
            return ValueTask.CompletedTask;
        }

        Ask(subscription, count);
        return PumpAsync();
    }

    public ValueTask OnCancelAsync(Subscription<T> subscription)
    {
        if (!_subscribers.Remove(subscription.Id))
        {
            return ValueTask.CompletedTask;
        }

        _demand += _dispatcher.Cancel(subscription.Id);
        return PumpAsync();
    }

    /// <summary>Switches between serving demand and accumulating it; forwarding replays the held asks in order.</summary>
    public async ValueTask SetDemandModeAsync(ProducerDemand mode)
    {
        if (mode == ProducerDemand.Accumulate)
        {
            _accumulated ??= [];
            return;
        }

        List<(Subscription<T> Subscription, long Count)>? held = _accumulated;
        _accumulated = null;
        if (held is null)
        {
            return;
        }

        foreach ((Subscription<T> subscription, long count) in held)
        {
            if (_subscribers.ContainsKey(subscription.Id))
            {
                Ask(subscription, count);
                await PumpAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Dispatches events emitted by the stage (with or without demand); what no subscriber takes is buffered.
    /// The caller pumps afterwards (<see cref="PumpAsync"/>) to serve any demand this freed.
    /// </summary>
    public void Emit(ReadOnlyMemory<T> events)
    {
        if (events.IsEmpty)
        {
            return;
        }

        ReadOnlyMemory<T> leftover = _dispatcher.Dispatch(events, this, out long demand);
        _demand += demand;
        if (!leftover.IsEmpty)
        {
            int dropped = _buffer.PushBack(leftover.Span);
            _bufferedCount = _buffer.Count;
            if (dropped > 0)
            {
                Interlocked.Add(ref _dropped, dropped);
                Stage.Report(new StageDiagnostic(
                    StageDiagnosticKind.BufferOverflow,
                    dropped,
                    $"Stage {Stage} discarded {dropped} events: its buffer of {_buffer.Capacity} was full (keep {_buffer.Keep})."));
            }
        }

        AssertInvariants();
    }

    /// <summary>Serves outstanding demand: from the buffer first, then through the host. Re-entrant calls return at once.</summary>
    public async ValueTask PumpAsync()
    {
        if (_pumping)
        {
            return;
        }

        _pumping = true;
        try
        {
            while (_demand > 0)
            {
                long demand = _demand;
                _demand = 0;
                demand = ServeFromBuffer(demand);
                if (demand > 0)
                {
                    await _host.HandleDemandAsync(demand).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _pumping = false;
        }
    }

    public void OnStopped(StageExitReason reason)
    {
        foreach (Subscription<T> subscription in _subscribers.Values)
        {
            subscription.Consumer.Stage.Post(new ProducerCancelMessage<T>(subscription, reason));
        }

        _subscribers.Clear();
    }

    void IDispatchSink<T>.Deliver(long subscriberId, ReadOnlyMemory<T> events)
    {
        if (_subscribers.TryGetValue(subscriberId, out Subscription<T>? subscription))
        {
            subscription.Consumer.Stage.Post(new EventsMessage<T>(subscription, events));
        }
    }

    void IDispatchSink<T>.Report(StageDiagnostic diagnostic) => Stage.Report(diagnostic);

    void IDispatchSink<T>.Gap(long subscriberId, long fromSequence, long toSequence)
    {
        if (_subscribers.TryGetValue(subscriberId, out Subscription<T>? subscription))
        {
            subscription.Consumer.Stage.Post(new GapMessage<T>(subscription, fromSequence, toSequence));
        }
    }

    void IDispatchSink<T>.Disconnect(long subscriberId, long fromSequence, long toSequence)
    {
        if (_subscribers.Remove(subscriberId, out Subscription<T>? subscription))
        {
            subscription.Consumer.Stage.Post(new ProducerCancelMessage<T>(subscription, StageExitReason.Overflow));
        }
    }

    private void Ask(Subscription<T> subscription, long count)
    {
        if (_accumulated is not null)
        {
            _accumulated.Add((subscription, count));
            return;
        }

        _demand += _dispatcher.Ask(subscription.Id, count, this);
    }

    private long ServeFromBuffer(long demand)
    {
        while (demand > 0 && _buffer.Count > 0)
        {
            T[] taken = _buffer.TakeFront((int)Math.Min(demand, _buffer.Count));
            demand -= taken.Length;
            ReadOnlyMemory<T> leftover = _dispatcher.Dispatch(taken, this, out long more);
            demand += more;
            if (!leftover.IsEmpty)
            {
                _buffer.PushFront(leftover.Span);
                _bufferedCount = _buffer.Count;
                break;
            }

            _bufferedCount = _buffer.Count;
        }

        AssertInvariants();
        return demand;
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_demand >= 0, "demand is never negative");
        Debug.Assert(_buffer.Count <= _buffer.Capacity, "buffered ≤ capacity");
        Debug.Assert(_bufferedCount == _buffer.Count, "the published count matches the buffer");
    }
}
