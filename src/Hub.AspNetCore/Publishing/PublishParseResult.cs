using Hub.Log;

namespace Hub.Server.Publishing;

/// <summary>What <see cref="PublishRequestParser"/> made of a body: the drafts to append, or the errors by field.</summary>
public sealed class PublishParseResult
{
    private PublishParseResult(IReadOnlyList<EventDraft>? drafts, Dictionary<string, string[]>? errors)
    {
        Drafts = drafts;
        Errors = errors;
    }

    /// <summary>The events to append, when the whole body is valid.</summary>
    public IReadOnlyList<EventDraft>? Drafts { get; }

    /// <summary>The errors, keyed by field (<c>topic</c>, or <c>[3].topic</c> in a batch), when it is not.</summary>
    public Dictionary<string, string[]>? Errors { get; }

    internal static PublishParseResult Ok(IReadOnlyList<EventDraft> drafts) => new(drafts, null);

    internal static PublishParseResult Fail(Dictionary<string, string[]> errors) => new(null, errors);

    internal static PublishParseResult Fail(string field, string message) => new(null, new() { [field] = [message] });
}
