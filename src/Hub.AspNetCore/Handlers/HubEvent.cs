using System.Text.Json;
using Hub.Log;

namespace Hub.Server.Handlers;

/// <summary>
/// An event as an <see cref="IEventHandler"/> receives it: the envelope of CONTRACT.md, read from the log's entry. The
/// fields the log indexes are at hand; <see cref="Data"/> and <see cref="Headers"/> are read from the stored envelope the
/// first time they are asked for.
/// </summary>
/// <remarks>
/// The server's own type, not <c>Hub.Client.HubEvent</c>: the client package speaks SignalR and is not referenced by the
/// server, and a handler's event is the log's entry itself (no copy, no <c>redelivered</c>: a handler owns its position).
/// </remarks>
public sealed class HubEvent
{
    private readonly LogEntry _entry;
    private JsonElement? _envelope;

    internal HubEvent(LogEntry entry) => _entry = entry;

    /// <summary>The event's position in the log.</summary>
    public long Sequence => _entry.Sequence;

    /// <summary>Its topic.</summary>
    public string Topic => _entry.Topic;

    /// <summary>Its type, if the publisher gave one.</summary>
    public string? Type => _entry.Type;

    /// <summary>The publisher's id, if any.</summary>
    public string? Id => _entry.Id;

    /// <summary>The partition key, if any.</summary>
    public string? Key => _entry.Key;

    /// <summary>When the hub accepted it.</summary>
    public DateTimeOffset Time => _entry.Time;

    /// <summary>The whole envelope as UTF-8 JSON, as subscribers receive it.</summary>
    public ReadOnlyMemory<byte> Json => _entry.Json;

    /// <summary>The payload as published (<see cref="JsonValueKind.Null"/> when there was none).</summary>
    public JsonElement Data => Envelope.TryGetProperty("data", out var data) ? data : default;

    /// <summary>String metadata, if any.</summary>
    public IReadOnlyDictionary<string, string>? Headers =>
        Envelope.TryGetProperty("headers", out var headers) && headers.ValueKind == JsonValueKind.Object
            ? headers.EnumerateObject().ToDictionary(static h => h.Name, static h => h.Value.GetString() ?? "", StringComparer.Ordinal)
            : null;

    /// <summary>The payload as <typeparamref name="T"/> (camelCase JSON names unless <paramref name="options"/> say otherwise).</summary>
    public T? DataAs<T>(JsonSerializerOptions? options = null) =>
        Data.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? default : Data.Deserialize<T>(options ?? JsonSerializerOptions.Web);

    /// <inheritdoc />
    public override string ToString() => $"{Sequence} {Topic}";

    // Parsed once per event and handler, when first asked (a racing second parse yields an equal element).
    private JsonElement Envelope => _envelope ??= JsonSerializer.Deserialize<JsonElement>(_entry.Json);
}
