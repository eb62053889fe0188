using Hub.Stages.Runtime;
using Hub.Stages.Subscriptions;

namespace Hub.Stages;

/// <summary>A stage that receives events from the producers it subscribes to. Override <see cref="HandleEventsAsync"/>.</summary>
/// <typeparam name="T">The events it receives.</typeparam>
public abstract class Consumer<T> : Stage, IConsumerHost<T>
{
    private readonly ConsumerSide<T> _side;

    /// <summary>Creates a consumer.</summary>
    /// <param name="name">A name for diagnostics.</param>
    protected Consumer(string? name = null)
        : base(name)
    {
        _side = new ConsumerSide<T>(this, this);
    }

    /// <summary>
    /// Subscribes to <paramref name="producer"/>; completes once the producer has registered the subscription (or it
    /// has ended). Invalid demand options throw an <see cref="ArgumentException"/> naming the option and its range;
    /// the consumer keeps running.
    /// </summary>
    public Task<Subscription<T>> SubscribeAsync(IProducer<T> producer, SubscriptionOptions<T>? options = null) => _side.SubscribeAsync(producer, options);

    /// <summary>Asks for more events on a (manual) subscription; see <see cref="Subscription{T}.Ask(long)"/>.</summary>
    public static void Ask(Subscription<T> subscription, long count)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        subscription.Ask(count);
    }

    /// <summary>Handles one batch (in automatic mode at most <c>maxDemand − minDemand</c> events).</summary>
    protected abstract ValueTask HandleEventsAsync(ReadOnlyMemory<T> events, Subscription<T> from);

    /// <summary>Called when a subscription starts, before the initial ask.</summary>
    protected virtual ValueTask HandleSubscribeAsync(Subscription<T> subscription) => ValueTask.CompletedTask;

    /// <summary>Called when a subscription ends, whoever ended it, before its cancel mode applies.</summary>
    protected virtual ValueTask HandleCancelAsync(Subscription<T> subscription, StageExitReason reason) => ValueTask.CompletedTask;

    /// <summary>Called when events <c>[fromSequence, toSequence)</c> were dropped before this subscriber read them.</summary>
    protected virtual ValueTask HandleGapAsync(Subscription<T> subscription, long fromSequence, long toSequence) => ValueTask.CompletedTask;

    ValueTask IConsumerHost<T>.OnEventsAsync(Subscription<T> from, ReadOnlyMemory<T> events) => _side.ProcessEventsAsync(from, events);

    ValueTask IConsumerHost<T>.HandleBatchAsync(ReadOnlyMemory<T> batch, Subscription<T> from) => HandleEventsAsync(batch, from);

    ValueTask IConsumerHost<T>.HandleSubscribeAsync(Subscription<T> subscription) => HandleSubscribeAsync(subscription);

    ValueTask IConsumerHost<T>.HandleCancelAsync(Subscription<T> subscription, StageExitReason reason) => HandleCancelAsync(subscription, reason);

    ValueTask IConsumerHost<T>.HandleGapAsync(Subscription<T> subscription, long fromSequence, long toSequence) => HandleGapAsync(subscription, fromSequence, toSequence);

    private protected override void OnStopped(StageExitReason reason) => _side.OnStopped(reason);
}
