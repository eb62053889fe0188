using System.Buffers;
using System.Globalization;
using System.Text.Json;
using MessagePack;
using MessagePack.Formatters;

namespace Hub.Protocol;

/// <summary>
/// MessagePack ⇄ JSON for one value, so that a MessagePack hub protocol carries exactly what the JSON one does: maps
/// are objects (keys as strings), arrays, strings, booleans and nil as themselves, integers as integers, floats as
/// numbers. What JSON has no word for becomes a string the reader can name in an error: binary data as base64, a
/// timestamp as ISO 8601, NaN and infinities as <c>"NaN"</c>, <c>"Infinity"</c>, <c>"-Infinity"</c>; another extension as
/// <c>{"extension": type, "data": base64}</c>.
/// </summary>
/// <remarks>Compiled into the hub and the .NET client (src/Shared, linked), so both sides convert the same way.</remarks>
internal sealed class JsonElementFormatter : IMessagePackFormatter<JsonElement>
{
    /// <summary>The one instance.</summary>
    public static readonly JsonElementFormatter Instance = new();

    private JsonElementFormatter()
    {
    }

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, JsonElement value, MessagePackSerializerOptions options) => Write(ref writer, value);

    /// <inheritdoc />
    public JsonElement Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            Read(ref reader, json, options);
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    /// <summary>Writes <paramref name="value"/> as MessagePack.</summary>
    public static void Write(ref MessagePackWriter writer, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteMapHeader(value.GetPropertyCount());
                foreach (var property in value.EnumerateObject())
                {
                    writer.Write(property.Name);
                    Write(ref writer, property.Value);
                }

                break;
            case JsonValueKind.Array:
                writer.WriteArrayHeader(value.GetArrayLength());
                foreach (var item in value.EnumerateArray())
                {
                    Write(ref writer, item);
                }

                break;
            case JsonValueKind.String:
                writer.Write(value.GetString());
                break;
            case JsonValueKind.Number:
                if (value.TryGetInt64(out var signed))
                {
                    writer.Write(signed);
                }
                else if (value.TryGetUInt64(out var unsigned))
                {
                    writer.Write(unsigned);
                }
                else
                {
                    // Past double's range JSON readers take ±Infinity, as double.Parse does.
                    writer.Write(value.TryGetDouble(out var number) ? number : double.Parse(value.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture));
                }

                break;
            case JsonValueKind.True:
                writer.Write(true);
                break;
            case JsonValueKind.False:
                writer.Write(false);
                break;
            default: // Null, and an Undefined element (a missing value)
                writer.WriteNil();
                break;
        }
    }

    private static void Read(ref MessagePackReader reader, Utf8JsonWriter json, MessagePackSerializerOptions options)
    {
        switch (reader.NextMessagePackType)
        {
            case MessagePackType.Nil:
                reader.ReadNil();
                json.WriteNullValue();
                break;
            case MessagePackType.Boolean:
                json.WriteBooleanValue(reader.ReadBoolean());
                break;
            case MessagePackType.Integer:
                if (reader.NextCode == MessagePackCode.UInt64)
                {
                    json.WriteNumberValue(reader.ReadUInt64());
                }
                else
                {
                    json.WriteNumberValue(reader.ReadInt64());
                }

                break;
            case MessagePackType.Float:
                var number = reader.ReadDouble();
                if (double.IsFinite(number))
                {
                    json.WriteNumberValue(number);
                }
                else
                {
                    json.WriteStringValue(double.IsNaN(number) ? "NaN" : number > 0 ? "Infinity" : "-Infinity");
                }

                break;
            case MessagePackType.String:
                json.WriteStringValue(reader.ReadString());
                break;
            case MessagePackType.Binary:
                json.WriteBase64StringValue(reader.ReadBytes()!.Value.ToArray());
                break;
            case MessagePackType.Array:
                var count = reader.ReadArrayHeader();
                options.Security.DepthStep(ref reader);
                json.WriteStartArray();
                for (var i = 0; i < count; i++)
                {
                    Read(ref reader, json, options);
                }

                json.WriteEndArray();
                reader.Depth--;
                break;
            case MessagePackType.Map:
                var pairs = reader.ReadMapHeader();
                options.Security.DepthStep(ref reader);
                json.WriteStartObject();
                for (var i = 0; i < pairs; i++)
                {
                    json.WritePropertyName(ReadKey(ref reader));
                    Read(ref reader, json, options);
                }

                json.WriteEndObject();
                reader.Depth--;
                break;
            case MessagePackType.Extension:
                var header = reader.TryReadExtensionFormatHeader(out var extension) ? extension : throw new MessagePackSerializationException("An extension header could not be read.");
                if (header.TypeCode == ReservedMessagePackExtensionTypeCode.DateTime)
                {
                    json.WriteStringValue(reader.ReadDateTime(header).ToString("O", CultureInfo.InvariantCulture));
                }
                else
                {
                    var data = reader.ReadRaw(header.Length);
                    json.WriteStartObject();
                    json.WriteNumber("extension", header.TypeCode);
                    json.WriteBase64String("data", data.ToArray());
                    json.WriteEndObject();
                }

                break;
            default:
                throw new MessagePackSerializationException($"Unexpected MessagePack code {reader.NextCode}.");
        }
    }

    /// <summary>A map key as a property name: a string as it is, a number or boolean as its text.</summary>
    private static string ReadKey(ref MessagePackReader reader) => reader.NextMessagePackType switch
    {
        MessagePackType.String => reader.ReadString() ?? "",
        MessagePackType.Integer when reader.NextCode == MessagePackCode.UInt64 => reader.ReadUInt64().ToString(CultureInfo.InvariantCulture),
        MessagePackType.Integer => reader.ReadInt64().ToString(CultureInfo.InvariantCulture),
        MessagePackType.Float => reader.ReadDouble().ToString("R", CultureInfo.InvariantCulture),
        MessagePackType.Boolean => reader.ReadBoolean() ? "true" : "false",
        MessagePackType.Nil when reader.TryReadNil() => "null",
        _ => throw new MessagePackSerializationException($"A map key must be a string, a number or a boolean (got {reader.NextMessagePackType})."),
    };
}
