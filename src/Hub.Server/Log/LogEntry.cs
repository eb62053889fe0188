namespace Hub.Server.Log;

/// <summary>
/// One event in the log. Immutable. Its envelope is serialized once, at append, and every reader (each
/// subscriber's stage, the REST reader) copies those bytes instead of serializing again.
/// </summary>
public sealed class LogEntry
{
    internal LogEntry(long sequence, string topic, string? type, string? id, string? key, DateTimeOffset time, byte[] json)
    {
        Sequence = sequence;
        Topic = topic;
        Type = type;
        Id = id;
        Key = key;
        Time = time;
        Json = json;
    }

    /// <summary>The event's position in the log.</summary>
    public long Sequence { get; }

    /// <summary>The topic the event was published to.</summary>
    public string Topic { get; }

    /// <summary>The event's type, if the publisher gave one.</summary>
    public string? Type { get; }

    /// <summary>The publisher's id, which makes the publish idempotent per topic.</summary>
    public string? Id { get; }

    /// <summary>The partition key, if any.</summary>
    public string? Key { get; }

    /// <summary>When the hub accepted the event.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>The whole envelope as UTF-8 JSON: <c>{"sequence":…,"topic":…,"type":…,"id":…,"key":…,"time":…,"data":…,"headers":…}</c>.</summary>
    public byte[] Json { get; }
}
