using Hub.Stages.Subscriptions;

namespace Hub.Stages.Runtime;

/// <summary>A consumer whose callbacks are delegates.</summary>
internal sealed class LambdaConsumer<T>(
    Func<ReadOnlyMemory<T>, Subscription<T>, ValueTask> handleEvents,
    Func<Subscription<T>, StageExitReason, ValueTask>? handleCancel,
    string? name)
    : Consumer<T>(name)
{
    protected override ValueTask HandleEventsAsync(ReadOnlyMemory<T> events, Subscription<T> from) => handleEvents(events, from);

    protected override ValueTask HandleCancelAsync(Subscription<T> subscription, StageExitReason reason) =>
        handleCancel?.Invoke(subscription, reason) ?? ValueTask.CompletedTask;
}
