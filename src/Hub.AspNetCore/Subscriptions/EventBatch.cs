using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using Hub.Log;
using Hub.Server.Protocol;
using MessagePack;
using MessagePack.Formatters;

namespace Hub.Server.Subscriptions;

/// <summary>
/// The second argument of <c>events(subscriptionId, batch)</c>: an array of envelopes written from each entry's stored
/// bytes, JSON (<see cref="LogEntry.Json"/>) or MessagePack (<see cref="EnvelopeMessagePack.MessagePack"/>) by the connection's
/// protocol, so an event is serialized once per protocol for all subscribers and each delivery is a copy.
/// </summary>
/// <remarks>
/// The array's bytes are defined once, here (<see cref="WriteJson"/>, <see cref="WriteMessagePack"/>, with their exact
/// lengths): the JSON converter and the MessagePack formatter write them, and so does the hub's <c>events</c> frame
/// writer (Hubs/EventsFrameProtocol), which sizes the whole message before it writes it in one piece.
/// </remarks>
[JsonConverter(typeof(EventBatchConverter))]
internal sealed class EventBatch(List<LogEntry> entries)
{
    public List<LogEntry> Entries { get; } = entries;

    /// <summary>Gives the MessagePack hub protocol <see cref="EventBatch"/>'s formatter (and nothing else).</summary>
    public static IFormatterResolver MessagePackResolver { get; } = new Resolver();

    /// <summary>The bytes of <see cref="WriteJson"/>: <c>[</c>, the envelopes separated by commas, <c>]</c>.</summary>
    public int JsonLength
    {
        get
        {
            var length = 2 + Math.Max(0, Entries.Count - 1);
            foreach (var entry in Entries)
            {
                length += entry.Json.Length;
            }

            return length;
        }
    }

    /// <summary>Writes the batch as a JSON array of the stored envelopes (no whitespace, as <c>Utf8JsonWriter</c> writes
    /// it); <paramref name="destination"/> holds at least <see cref="JsonLength"/> bytes. Returns the bytes written.</summary>
    public int WriteJson(Span<byte> destination)
    {
        destination[0] = (byte)'[';
        var written = 1;
        for (var i = 0; i < Entries.Count; i++)
        {
            if (i > 0)
            {
                destination[written++] = (byte)',';
            }

            var json = Entries[i].Json;
            json.CopyTo(destination[written..]);
            written += json.Length;
        }

        destination[written++] = (byte)']';
        return written;
    }

    /// <summary>The bytes of <see cref="WriteMessagePack"/>: an array header and each envelope's MessagePack (made here if
    /// it was not yet, once per entry).</summary>
    public int MessagePackLength
    {
        get
        {
            var length = MessagePackHeaders.ArrayHeaderLength(Entries.Count);
            foreach (var entry in Entries)
            {
                length += entry.MessagePack().Length;
            }

            return length;
        }
    }

    /// <summary>Writes the batch as a MessagePack array of the envelopes' MessagePack bytes; <paramref name="destination"/>
    /// holds at least <see cref="MessagePackLength"/> bytes. Returns the bytes written.</summary>
    public int WriteMessagePack(Span<byte> destination)
    {
        var written = MessagePackHeaders.WriteArrayHeader(destination, Entries.Count);
        foreach (var entry in Entries)
        {
            var bytes = entry.MessagePack();
            bytes.CopyTo(destination[written..]);
            written += bytes.Length;
        }

        return written;
    }

    private sealed class EventBatchConverter : JsonConverter<EventBatch>
    {
        public override EventBatch Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            throw new NotSupportedException("An event batch is only ever written.");

        // Only a message the frame writer leaves to SignalR's own protocol comes here (see Hubs/EventsFrameProtocol): the
        // array is written into a rented buffer, then as one raw value, which Utf8JsonWriter separates from its neighbours.
        public override void Write(Utf8JsonWriter writer, EventBatch value, JsonSerializerOptions options)
        {
            var length = value.JsonLength;
            var buffer = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                var written = value.WriteJson(buffer);
                writer.WriteRawValue(buffer.AsSpan(0, written), skipInputValidation: true);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private sealed class EventBatchFormatter : IMessagePackFormatter<EventBatch>
    {
        public void Serialize(ref MessagePackWriter writer, EventBatch value, MessagePackSerializerOptions options)
        {
            var length = value.MessagePackLength;
            var written = value.WriteMessagePack(writer.GetSpan(length));
            writer.Advance(written);
        }

        public EventBatch Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) =>
            throw new NotSupportedException("An event batch is only ever written.");
    }

    private sealed class Resolver : IFormatterResolver
    {
        private static readonly EventBatchFormatter Formatter = new();

        public IMessagePackFormatter<T>? GetFormatter<T>() => typeof(T) == typeof(EventBatch) ? (IMessagePackFormatter<T>)(object)Formatter : null;
    }
}
