namespace Hub.Server.Handlers;

/// <summary>An event to publish in-process with <see cref="IHubPublisher"/>: the fields of <c>POST /api/events</c>' body.</summary>
/// <param name="Topic">Dot-separated segments of <c>[A-Za-z0-9_-]</c>, 1 to 255 characters, e.g. <c>orders.eu.created</c>.</param>
/// <param name="Data">The payload: any value <see cref="System.Text.Json"/> serializes (camelCase names), or null.</param>
public sealed record NewEvent(string Topic, object? Data = null)
{
    /// <summary>The event's type, if any.</summary>
    public string? Type { get; init; }

    /// <summary>Makes the publish idempotent: the same (topic, id) within the dedup window answers the first sequence.</summary>
    public string? Id { get; init; }

    /// <summary>The partition key, if any.</summary>
    public string? Key { get; init; }

    /// <summary>String metadata, if any.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }
}
