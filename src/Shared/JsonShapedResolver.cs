using System.Collections.Concurrent;
using System.Text.Json;
using MessagePack;
using MessagePack.Formatters;

namespace Hub.Protocol;

/// <summary>
/// The MessagePack hub protocol's resolver on both sides of Hub's connections: every type is written as the JSON hub
/// protocol writes it (through System.Text.Json with the same options, then <see cref="JsonElementFormatter"/>), and
/// read back the same way, so an envelope, an answer or a notice has the same fields, names and values under both
/// protocols and one mapping defines them. <paramref name="first"/> may take a type over (the hub writes its event
/// batches from bytes serialized once).
/// </summary>
internal sealed class JsonShapedResolver(JsonSerializerOptions json, IFormatterResolver? first = null) : IFormatterResolver
{
    private readonly ConcurrentDictionary<Type, object> _formatters = new();

    /// <inheritdoc />
    public IMessagePackFormatter<T>? GetFormatter<T>() =>
        (IMessagePackFormatter<T>)_formatters.GetOrAdd(typeof(T), static (_, self) =>
            self.Choose<T>(), this);

    private object Choose<T>() =>
        first?.GetFormatter<T>() is { } taken ? taken
        : typeof(T) == typeof(JsonElement) ? JsonElementFormatter.Instance
        : new JsonShapedFormatter<T>(json);

    private sealed class JsonShapedFormatter<T>(JsonSerializerOptions json) : IMessagePackFormatter<T>
    {
        public void Serialize(ref MessagePackWriter writer, T value, MessagePackSerializerOptions options)
        {
            if (value is null)
            {
                writer.WriteNil();
                return;
            }

            JsonElementFormatter.Write(ref writer, JsonSerializer.SerializeToElement(value, value.GetType(), json));
        }

        public T Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) =>
            JsonElementFormatter.Instance.Deserialize(ref reader, options).Deserialize<T>(json)!;
    }
}
