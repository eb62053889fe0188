using Hub.Stages.Dispatchers;
using Hub.Stages.Subscriptions;

namespace Hub.Stages.Runtime;

/// <summary>A producer-consumer whose transform is a delegate.</summary>
internal sealed class LambdaProducerConsumer<TIn, TOut>(
    Func<ReadOnlyMemory<TIn>, ValueTask<ReadOnlyMemory<TOut>>> transform,
    IDispatcher<TOut>? dispatcher,
    ProducerOptions? options,
    string? name)
    : ProducerConsumer<TIn, TOut>(dispatcher, options, name)
{
    protected override ValueTask<ReadOnlyMemory<TOut>> HandleEventsAsync(ReadOnlyMemory<TIn> events, Subscription<TIn> from) => transform(events);
}
