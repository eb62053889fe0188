namespace Hub.Log;

/// <summary>
/// One event in the log. Immutable. Its envelope is serialized once, at append, and every reader (each
/// subscriber's stage, the REST reader) copies those bytes instead of serializing again; its MessagePack form is made
/// once too, the first time a MessagePack subscriber needs it.
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

    /// <summary>An entry made again from its stored bytes (<see cref="EventSegments"/>), with the MessagePack envelope made while it was hot, if any.</summary>
    internal LogEntry(long sequence, string topic, string? type, string? id, string? key, DateTimeOffset time, byte[] json, byte[]? messagePack)
        : this(sequence, topic, type, id, key, time, json)
    {
        _messagePack = messagePack;
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

    private byte[]? _messagePack;

    /// <summary>The MessagePack envelope if it was made already (kept when the entry moves to a ring's cold segments).</summary>
    internal byte[]? KnownMessagePack => Volatile.Read(ref _messagePack);

    /// <summary>
    /// The envelope in MessagePack, the same fields as <see cref="Json"/>: converted by <paramref name="fromJson"/> (the
    /// hub's protocol layer, which owns the format) the first time it is asked for, then kept (once per entry, not once
    /// per subscriber; a racing second conversion writes equal bytes).
    /// </summary>
    internal byte[] GetMessagePack(Func<byte[], byte[]> fromJson)
    {
        var known = Volatile.Read(ref _messagePack);
        if (known is null)
        {
            known = fromJson(Json);
            Volatile.Write(ref _messagePack, known);
        }

        return known;
    }

    // The trace context of the publish (its headers' traceparent), read from Json the first time a delivery span asks,
    // then kept: once per event, not once per subscriber. Null until read; NoTraceContext when there is none. A
    // reference, so a racing second read writes the same answer whole.
    private object? _traceContext;
    private static readonly object NoTraceContext = new();

    /// <summary>The publish's trace context, from the envelope's <c>traceparent</c> header (read once, then kept).</summary>
    internal bool TryGetTraceContext(out System.Diagnostics.ActivityContext context)
    {
        var known = Volatile.Read(ref _traceContext);
        if (known is null)
        {
            known = EnvelopeJson.TryReadTraceParent(Json, out var read) ? read : NoTraceContext;
            Volatile.Write(ref _traceContext, known);
        }

        if (known is System.Diagnostics.ActivityContext found)
        {
            context = found;
            return true;
        }

        context = default;
        return false;
    }
}
