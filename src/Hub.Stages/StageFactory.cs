using Hub.Stages.Dispatchers;
using Hub.Stages.Runtime;
using Hub.Stages.Subscriptions;

namespace Hub.Stages;

/// <summary>Stages made from delegates, for tests and simple uses.</summary>
public static class StageFactory
{
    /// <summary>A producer whose <c>HandleDemandAsync</c> is <paramref name="handleDemand"/>.</summary>
    public static Producer<T> CreateProducer<T>(
        Func<long, ValueTask<ReadOnlyMemory<T>>> handleDemand,
        IDispatcher<T>? dispatcher = null,
        ProducerOptions? options = null,
        string? name = null)
    {
        ArgumentNullException.ThrowIfNull(handleDemand);
        return new LambdaProducer<T>(handleDemand, dispatcher, options, name);
    }

    /// <summary>A producer whose <c>HandleDemandAsync</c> is the synchronous <paramref name="handleDemand"/>.</summary>
    public static Producer<T> CreateProducer<T>(
        Func<long, ReadOnlyMemory<T>> handleDemand,
        IDispatcher<T>? dispatcher = null,
        ProducerOptions? options = null,
        string? name = null)
    {
        ArgumentNullException.ThrowIfNull(handleDemand);
        return new LambdaProducer<T>(demand => new ValueTask<ReadOnlyMemory<T>>(handleDemand(demand)), dispatcher, options, name);
    }

    /// <summary>A consumer whose <c>HandleEventsAsync</c> is <paramref name="handleEvents"/>.</summary>
    public static Consumer<T> CreateConsumer<T>(
        Func<ReadOnlyMemory<T>, Subscription<T>, ValueTask> handleEvents,
        Func<Subscription<T>, StageExitReason, ValueTask>? handleCancel = null,
        string? name = null)
    {
        ArgumentNullException.ThrowIfNull(handleEvents);
        return new LambdaConsumer<T>(handleEvents, handleCancel, name);
    }

    /// <summary>A consumer whose <c>HandleEventsAsync</c> is the synchronous <paramref name="handleEvents"/>.</summary>
    public static Consumer<T> CreateConsumer<T>(Action<ReadOnlyMemory<T>> handleEvents, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(handleEvents);
        return new LambdaConsumer<T>(
            (events, _) =>
            {
                handleEvents(events);
                return ValueTask.CompletedTask;
            },
            null,
            name);
    }

    /// <summary>A producer-consumer whose <c>HandleEventsAsync</c> is <paramref name="transform"/>.</summary>
    public static ProducerConsumer<TIn, TOut> CreateProducerConsumer<TIn, TOut>(
        Func<ReadOnlyMemory<TIn>, ValueTask<ReadOnlyMemory<TOut>>> transform,
        IDispatcher<TOut>? dispatcher = null,
        ProducerOptions? options = null,
        string? name = null)
    {
        ArgumentNullException.ThrowIfNull(transform);
        return new LambdaProducerConsumer<TIn, TOut>(transform, dispatcher, options, name);
    }
}
