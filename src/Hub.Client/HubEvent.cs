using System.Text.Json;

namespace Hub.Client;

/// <summary>An event as the hub delivers it (the envelope of CONTRACT.md).</summary>
/// <param name="Sequence">Its position in the hub's log.</param>
/// <param name="Topic">Its topic.</param>
/// <param name="Type">Its type, if the publisher gave one.</param>
/// <param name="Id">The publisher's id, if any.</param>
/// <param name="Key">The partition key, if any.</param>
/// <param name="Time">When the hub accepted it.</param>
/// <param name="Data">The payload as published (<see cref="JsonValueKind.Null"/> when there was none).</param>
/// <param name="Headers">String metadata, if any.</param>
/// <param name="Redelivered">In a group: it was in flight to a member that left, and may have been handled there.</param>
public sealed record HubEvent(
    long Sequence,
    string Topic,
    string? Type,
    string? Id,
    string? Key,
    DateTimeOffset Time,
    JsonElement Data,
    IReadOnlyDictionary<string, string>? Headers,
    bool Redelivered) : HubMessage
{
    /// <summary>The payload as <typeparamref name="T"/> (camelCase JSON names).</summary>
    public T? DataAs<T>() => Data.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? default : Data.Deserialize<T>(HubJson.Options);
}
