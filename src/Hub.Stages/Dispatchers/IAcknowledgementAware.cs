namespace Hub.Stages.Dispatchers;

/// <summary>
/// A dispatcher that needs to know what an <see cref="AcknowledgingDispatcher{T}"/> around it learns: which events were
/// acknowledged, and which came back from a subscriber that left (a <see cref="PartitionDispatcher{T}"/> holds a
/// partition for its subscriber until then, and queues returned events ahead of newer ones).
/// </summary>
/// <typeparam name="T">The event type.</typeparam>
internal interface IAcknowledgementAware<T>
{
    /// <summary>It is inside an acknowledging dispatcher: what it hands out stays held until acknowledged or returned.</summary>
    void UseAcknowledgements();

    /// <summary>A subscriber acknowledged these events (its oldest in flight).</summary>
    void Acknowledged(long subscriberId, ReadOnlySpan<T> events);

    /// <summary>
    /// A cancelled subscriber's unacknowledged events (already marked redelivered), in the order it was handed them.
    /// Returns true when the dispatcher keeps them to dispatch again; false leaves them to the owner.
    /// </summary>
    bool Return(long subscriberId, ReadOnlySpan<T> events);
}
