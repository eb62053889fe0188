namespace Hub.Server.Handlers;

/// <summary>
/// An in-process publish that is not valid; nothing was appended. <see cref="Errors"/> are those <c>POST /api/events</c>
/// answers with 400, keyed by field (<c>topic</c>, or <c>[3].topic</c> in a batch); the message names them.
/// </summary>
public sealed class HubPublishException(IReadOnlyDictionary<string, string[]> errors)
    : ArgumentException("The events are not valid, nothing was published: " + string.Join("; ", errors.Select(static e => $"{e.Key}: {string.Join(", ", e.Value)}")))
{
    /// <summary>The errors by field.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;
}
