namespace Hub.Stages.Runtime;

/// <summary>What a <see cref="ProducerSide{T}"/> needs from the stage that owns it.</summary>
internal interface IProducerHost
{
    /// <summary>Serves demand the buffer could not: a producer calls its demand callback, a producer-consumer handles queued events.</summary>
    ValueTask HandleDemandAsync(long demand);
}
