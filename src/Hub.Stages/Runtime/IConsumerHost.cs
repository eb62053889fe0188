using Hub.Stages.Subscriptions;

namespace Hub.Stages.Runtime;

/// <summary>What a <see cref="ConsumerSide{T}"/> needs from the stage that owns it: the user's callbacks.</summary>
internal interface IConsumerHost<T>
{
    ValueTask OnEventsAsync(Subscription<T> from, ReadOnlyMemory<T> events);

    ValueTask HandleBatchAsync(ReadOnlyMemory<T> batch, Subscription<T> from);

    ValueTask HandleSubscribeAsync(Subscription<T> subscription);

    ValueTask HandleCancelAsync(Subscription<T> subscription, StageExitReason reason);

    ValueTask HandleGapAsync(Subscription<T> subscription, long fromSequence, long toSequence);
}
