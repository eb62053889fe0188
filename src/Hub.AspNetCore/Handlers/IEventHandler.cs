namespace Hub.Server.Handlers;

/// <summary>
/// An in-process consumer of the hub's events, added with <c>AddHub(…).AddHandler&lt;THandler&gt;(name, …)</c>. Each
/// handler is its own stage: its own cursor into the log, its own demand window and its own durable position, so one that
/// is slow or failing delays no publisher, no other handler and no subscriber.
/// </summary>
/// <remarks>
/// Delivery is at least once: a batch that fails is retried, and after a restart the events after the handler's saved
/// position are handled again. An instance is resolved from a new service scope for each call.
/// </remarks>
public interface IEventHandler
{
    /// <summary>
    /// Handles a batch (at most <c>MaxDemand - MinDemand</c> events, in sequence order). Completing counts the batch as
    /// handled; throwing retries it (see <see cref="HandlerOptions.MaxAttempts"/>). <paramref name="cancellationToken"/> is
    /// cancelled when the hub stops: the batch is then handled again after the restart.
    /// </summary>
    Task HandleAsync(IReadOnlyList<HubEvent> batch, CancellationToken cancellationToken);
}
