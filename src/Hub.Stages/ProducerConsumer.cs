using Hub.Stages.Dispatchers;
using Hub.Stages.Runtime;
using Hub.Stages.Subscriptions;

namespace Hub.Stages;

/// <summary>
/// A stage that consumes events and emits transformed ones. Override <see cref="HandleEventsAsync"/>.
/// </summary>
/// <remarks>
/// It handles incoming events only while its own downstream demand is above zero; otherwise they wait, unhandled, so
/// no new demand goes upstream and back-pressure passes through it. Its buffer is unbounded by default.
/// </remarks>
/// <typeparam name="TIn">The events it receives.</typeparam>
/// <typeparam name="TOut">The events it emits.</typeparam>
public abstract class ProducerConsumer<TIn, TOut> : Stage, IProducer<TOut>, IProducerHost, IConsumerHost<TIn>
{
    private readonly ProducerSide<TOut> _producer;
    private readonly ConsumerSide<TIn> _consumer;
    private readonly Queue<(Subscription<TIn> From, ReadOnlyMemory<TIn> Events)> _waiting = new();
    private long _downstreamDemand;

    /// <summary>Creates a producer-consumer.</summary>
    /// <param name="dispatcher">How events reach subscribers; default a new <see cref="DemandDispatcher{T}"/>.</param>
    /// <param name="options">Buffer and demand options; the buffer is unbounded unless set.</param>
    /// <param name="name">A name for diagnostics.</param>
    protected ProducerConsumer(IDispatcher<TOut>? dispatcher = null, ProducerOptions? options = null, string? name = null)
        : base(name)
    {
        _producer = new ProducerSide<TOut>(this, this, dispatcher ?? new DemandDispatcher<TOut>(), options ?? ProducerOptions.Default, ProducerOptions.Unbounded);
        _consumer = new ConsumerSide<TIn>(this, this);
    }

    /// <inheritdoc/>
    public int BufferedCount => _producer.BufferedCount;

    /// <inheritdoc/>
    public long DroppedCount => _producer.DroppedCount;

    ProducerSide<TOut> IProducer<TOut>.Side => _producer;

    /// <summary>Subscribes to an upstream producer; see <see cref="Consumer{T}.SubscribeAsync"/>.</summary>
    public Task<Subscription<TIn>> SubscribeAsync(IProducer<TIn> producer, SubscriptionOptions<TIn>? options = null) => _consumer.SubscribeAsync(producer, options);

    /// <summary>Emits events without demand; completes once dispatched or buffered.</summary>
    public Task EmitAsync(ReadOnlyMemory<TOut> events) => InvokeAsync(() =>
    {
        _producer.Emit(events);
        return _producer.PumpAsync();
    });

    /// <summary>Transforms one batch; returns the events to emit (any number).</summary>
    protected abstract ValueTask<ReadOnlyMemory<TOut>> HandleEventsAsync(ReadOnlyMemory<TIn> events, Subscription<TIn> from);

    /// <summary>Called when an upstream subscription starts.</summary>
    protected virtual ValueTask HandleSubscribeAsync(Subscription<TIn> subscription) => ValueTask.CompletedTask;

    /// <summary>Called when an upstream subscription ends, before its cancel mode applies.</summary>
    protected virtual ValueTask HandleCancelAsync(Subscription<TIn> subscription, StageExitReason reason) => ValueTask.CompletedTask;

    /// <summary>Called when upstream events <c>[fromSequence, toSequence)</c> were dropped before this stage read them.</summary>
    protected virtual ValueTask HandleGapAsync(Subscription<TIn> subscription, long fromSequence, long toSequence) => ValueTask.CompletedTask;

    /// <summary>Emits events from within one of this stage's callbacks.</summary>
    protected void Emit(ReadOnlyMemory<TOut> events) => _producer.Emit(events);

    async ValueTask IProducerHost.HandleDemandAsync(long demand)
    {
        _downstreamDemand += demand;
        while (_downstreamDemand > 0 && _waiting.TryDequeue(out var item))
        {
            if (item.From.Active)
            {
                await _consumer.ProcessEventsAsync(item.From, item.Events).ConfigureAwait(false);
            }
        }
    }

    ValueTask IConsumerHost<TIn>.OnEventsAsync(Subscription<TIn> from, ReadOnlyMemory<TIn> events)
    {
        if (_downstreamDemand > 0 && _waiting.Count == 0)
        {
            return _consumer.ProcessEventsAsync(from, events);
        }

        _waiting.Enqueue((from, events));
        return ValueTask.CompletedTask;
    }

    async ValueTask IConsumerHost<TIn>.HandleBatchAsync(ReadOnlyMemory<TIn> batch, Subscription<TIn> from)
    {
        ReadOnlyMemory<TOut> events = await HandleEventsAsync(batch, from).ConfigureAwait(false);
        _downstreamDemand = Math.Max(0, _downstreamDemand - events.Length);
        _producer.Emit(events);
        await _producer.PumpAsync().ConfigureAwait(false);
    }

    ValueTask IConsumerHost<TIn>.HandleSubscribeAsync(Subscription<TIn> subscription) => HandleSubscribeAsync(subscription);

    ValueTask IConsumerHost<TIn>.HandleCancelAsync(Subscription<TIn> subscription, StageExitReason reason) => HandleCancelAsync(subscription, reason);

    ValueTask IConsumerHost<TIn>.HandleGapAsync(Subscription<TIn> subscription, long fromSequence, long toSequence) => HandleGapAsync(subscription, fromSequence, toSequence);

    private protected override ValueTask AfterInvokeAsync() => _producer.PumpAsync();

    private protected override void OnStopped(StageExitReason reason)
    {
        _consumer.OnStopped(reason);
        _producer.OnStopped(reason);
    }
}
