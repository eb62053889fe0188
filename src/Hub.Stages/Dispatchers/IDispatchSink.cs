namespace Hub.Stages.Dispatchers;

/// <summary>
/// Where a dispatcher's decisions go. The owning stage turns each call into a message to the subscriber; tests
/// record the calls. Implementations must not call back into the dispatcher.
/// </summary>
/// <typeparam name="T">The event type.</typeparam>
public interface IDispatchSink<T>
{
    /// <summary>
    /// Hands a batch to a subscriber. The memory is never written again by the dispatcher, so the receiver may keep
    /// it without copying.
    /// </summary>
    void Deliver(long subscriberId, ReadOnlyMemory<T> events);

    /// <summary>
    /// Tells a subscriber that events with sequences in <c>[fromSequence, toSequence)</c> were dropped before it read
    /// them (the log moved past its cursor); it continues at <paramref name="toSequence"/>.
    /// </summary>
    void Gap(long subscriberId, long fromSequence, long toSequence);

    /// <summary>
    /// Tells the owner that the dispatcher has removed a subscriber because the log moved past its cursor (events
    /// <c>[fromSequence, toSequence)</c> are lost to it); the owner ends that subscription.
    /// </summary>
    void Disconnect(long subscriberId, long fromSequence, long toSequence);

    /// <summary>
    /// Something the dispatcher reports instead of logging (it has no logger): the owning stage raises it as its
    /// <see cref="Stage.Diagnostic"/>. Ignored by default.
    /// </summary>
    void Report(StageDiagnostic diagnostic)
    {
    }

    /// <summary>
    /// Whether a subscriber may be handed more now, asked while a dispatcher places events. A subscriber the owner says
    /// cannot (say, its connection still holds a batch unsent) is passed over as if it had no demand, keeping its demand
    /// for a later dispatch. True by default; GenStage has no such question (its subscribers are mailboxes).
    /// </summary>
    bool CanTake(long subscriberId) => true;

    /// <summary>
    /// Tells the owner that an <see cref="AcknowledgingDispatcher{T}"/> took <paramref name="events"/> (the subscriber's
    /// oldest in flight) as acknowledged. Ignored by default.
    /// </summary>
    void Acknowledged(long subscriberId, ReadOnlySpan<T> events)
    {
    }
}
