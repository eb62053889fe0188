using System.Text.Json;
using System.Text.Json.Serialization;
using Hub.Log;

namespace Hub.Server.Subscriptions;

/// <summary>
/// The second argument of <c>events(subscriptionId, batch)</c>: a JSON array of envelopes written from each entry's
/// stored bytes, so an event is serialized once for all subscribers and each delivery is a copy.
/// </summary>
[JsonConverter(typeof(EventBatchConverter))]
internal sealed class EventBatch(List<LogEntry> entries)
{
    public List<LogEntry> Entries { get; } = entries;

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
}
