using Hub.Stages.Dispatchers;

namespace Hub.Stages.Runtime;

/// <summary>A producer whose demand callback is a delegate.</summary>
internal sealed class LambdaProducer<T>(Func<long, ValueTask<ReadOnlyMemory<T>>> handleDemand, IDispatcher<T>? dispatcher, ProducerOptions? options, string? name)
    : Producer<T>(dispatcher, options, name)
{
    protected override ValueTask<ReadOnlyMemory<T>> HandleDemandAsync(long demand) => handleDemand(demand);
}
