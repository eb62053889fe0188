using Hub.Stages.Subscriptions;

namespace Hub.Stages.Dispatchers;

/// <summary>
/// A producer's dispatcher: a pure state machine that decides which subscriber gets which events and how much
/// demand the producer should serve (GenStage's <c>GenStage.Dispatcher</c> behaviour).
/// </summary>
/// <remarks>
/// No awaits, locks or I/O: the stage that owns a dispatcher serialises every call, and deliveries go through an
/// <see cref="IDispatchSink{T}"/>. Every method returns the demand the producer should now serve (forward upstream),
/// never a negative number.
/// </remarks>
/// <typeparam name="T">The event type.</typeparam>
public interface IDispatcher<T>
{
    /// <summary>Adds a subscriber with no demand yet. Returns the demand to forward.</summary>
    /// <exception cref="ArgumentException">The id is already subscribed.</exception>
    long Subscribe(long subscriberId, SubscriptionOptions<T> options);

    /// <summary>
    /// Adds <paramref name="count"/> to a subscriber's demand. Returns the demand to forward. A dispatcher that keeps
    /// events (the cursor broadcast) may deliver through <paramref name="sink"/> at once. Unknown ids are ignored.
    /// </summary>
    long Ask(long subscriberId, long count, IDispatchSink<T> sink);

    /// <summary>Removes a subscriber. Returns the demand to forward. Unknown ids are ignored.</summary>
    long Cancel(long subscriberId);

    /// <summary>
    /// Places events with subscribers through <paramref name="sink"/>. Returns the events it could not place (a
    /// suffix of <paramref name="events"/>, which the producer buffers) and, in <paramref name="demand"/>, the demand
    /// to forward (e.g. filtered-out events credited back).
    /// </summary>
    /// <param name="events">The events; the caller never writes this memory again.</param>
    /// <param name="sink">Receives the deliveries.</param>
    /// <param name="demand">The demand to forward after this dispatch.</param>
    ReadOnlyMemory<T> Dispatch(ReadOnlyMemory<T> events, IDispatchSink<T> sink, out long demand);
}
