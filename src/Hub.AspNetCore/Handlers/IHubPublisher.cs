using Hub.Server.Api;

namespace Hub.Server.Handlers;

/// <summary>
/// Publishes in-process, with what <c>POST /api/events</c> does: the same validation (the same parser, the same limits),
/// the same dedup by <c>(topic, id)</c> and idempotency keys, and the same durability: it completes once the events are
/// in the log. It never waits on a handler or a subscriber. The caller is trusted: no topic grant is checked.
/// </summary>
public interface IHubPublisher
{
    /// <summary>Publishes one event; answers where it went (the first sequence, for a duplicate).</summary>
    /// <exception cref="HubPublishException">A field is not valid (the message names it); nothing was appended.</exception>
    /// <exception cref="Log.LogOverloadedException">The log cannot take more now; nothing was appended.</exception>
    /// <exception cref="Log.LogUnavailableException">The log cannot write now; nothing was appended.</exception>
    Task<PublishedEvent> PublishAsync(NewEvent @event, CancellationToken cancellationToken = default);

    /// <summary>
    /// Publishes a batch, all or nothing, in order. With <paramref name="idempotencyKey"/> (1 to 255 printable
    /// characters), the same key within the dedup window appends nothing and answers what the first batch was answered.
    /// </summary>
    /// <exception cref="HubPublishException">A field is not valid (the message names it and its index); nothing was appended.</exception>
    Task<IReadOnlyList<PublishedEvent>> PublishAsync(IReadOnlyList<NewEvent> events, string? idempotencyKey = null, CancellationToken cancellationToken = default);
}
