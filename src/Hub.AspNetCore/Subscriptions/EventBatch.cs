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
[JsonConverter(typeof(EventBatchConverter))]
internal sealed class EventBatch(List<LogEntry> entries)
{
    public List<LogEntry> Entries { get; } = entries;

    /// <summary>Gives the MessagePack hub protocol <see cref="EventBatch"/>'s formatter (and nothing else).</summary>
    public static IFormatterResolver MessagePackResolver { get; } = new Resolver();

    private sealed class EventBatchConverter : JsonConverter<EventBatch>
    {
        public override EventBatch Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            throw new NotSupportedException("An event batch is only ever written.");

        public override void Write(Utf8JsonWriter writer, EventBatch value, JsonSerializerOptions options)
        {
            writer.WriteStartArray();
            foreach (var entry in value.Entries)
            {
                writer.WriteRawValue(entry.Json, skipInputValidation: true);
            }

            writer.WriteEndArray();
        }
    }

    private sealed class EventBatchFormatter : IMessagePackFormatter<EventBatch>
    {
        public void Serialize(ref MessagePackWriter writer, EventBatch value, MessagePackSerializerOptions options)
        {
            writer.WriteArrayHeader(value.Entries.Count);
            foreach (var entry in value.Entries)
            {
                writer.WriteRaw(entry.MessagePack());
            }
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
