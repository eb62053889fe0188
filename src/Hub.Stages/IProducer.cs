using Hub.Stages.Runtime;

namespace Hub.Stages;

/// <summary>A stage that consumers can subscribe to: a <see cref="Producer{T}"/> or a <see cref="ProducerConsumer{TIn, TOut}"/>.</summary>
/// <typeparam name="T">The events it emits.</typeparam>
public interface IProducer<T>
{
    /// <summary>Events still waiting in the producer's buffer (emitted without demand).</summary>
    int BufferedCount { get; }

    /// <summary>Events discarded so far because the buffer was full.</summary>
    long DroppedCount { get; }

    internal ProducerSide<T> Side { get; }
}
