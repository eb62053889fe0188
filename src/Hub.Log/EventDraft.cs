namespace Hub.Log;

/// <summary>
/// A validated event waiting to be appended: everything but its sequence, with the envelope's JSON already written
/// (<see cref="Body"/> is the envelope object without the <c>sequence</c> member, starting with <c>{</c>).
/// </summary>
public sealed class EventDraft
{
    /// <summary>Creates a draft; <paramref name="body"/> must be a JSON object holding the envelope's other members.</summary>
    public EventDraft(string topic, string? type, string? id, string? key, DateTimeOffset time, byte[] body)
    {
        if (body.Length < 2 || body[0] != (byte)'{')
        {
            throw new ArgumentException("The body must be a JSON object.", nameof(body));
        }

        Topic = topic;
        Type = type;
        Id = id;
        Key = key;
        Time = time;
        Body = body;
    }

    /// <summary>The topic.</summary>
    public string Topic { get; }

    /// <summary>The type, if any.</summary>
    public string? Type { get; }

    /// <summary>The publisher's id, if any.</summary>
    public string? Id { get; }

    /// <summary>The partition key, if any.</summary>
    public string? Key { get; }

    /// <summary>When the hub accepted it.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>The envelope's JSON object without <c>sequence</c>.</summary>
    public byte[] Body { get; }
}
