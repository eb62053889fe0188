using System.Buffers;
using System.Text.Json;
using Hub.Server.Telemetry;

namespace Hub.Server.Publishing;

public sealed partial class PublishRequestParser
{
    /// <summary>
    /// One buffer and one writer for every event of a thread's requests: each event's JSON is copied out once. Every
    /// event of a request carries the same time, so its JSON string is formatted once per request (<see cref="Time"/>).
    /// </summary>
    private sealed class DraftWriter
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(1024);
        private readonly Utf8JsonWriter _writer;
        private readonly byte[] _time = new byte[64];
        private int _timeLength;

        public DraftWriter() => _writer = new Utf8JsonWriter(_buffer);

        /// <summary>The request's time.</summary>
        public DateTimeOffset RequestTime { get; private set; }

        /// <summary>The request's time as a JSON string, quotes included, exactly as <see cref="Utf8JsonWriter"/> writes it.</summary>
        public ReadOnlySpan<byte> Time => _time.AsSpan(0, _timeLength);

        /// <summary>The size of the buffer (as large as the largest envelope written).</summary>
        public int Capacity => _buffer.Capacity;

        public void Start(DateTimeOffset time)
        {
            RequestTime = time;
            Start().WriteStringValue(time.UtcDateTime);
            _writer.Flush();
            _buffer.WrittenSpan.CopyTo(_time);
            _timeLength = _buffer.WrittenCount;
        }

        public Utf8JsonWriter Start()
        {
            _buffer.ResetWrittenCount();
            _writer.Reset(_buffer);
            return _writer;
        }

        public byte[] Finish()
        {
            _writer.Flush();
            return _buffer.WrittenSpan.ToArray();
        }
    }

    /// <summary>
    /// Writes a member's value (<c>data</c>, <c>headers</c>) as the publisher sent it: its bytes, which the pass has
    /// checked, copied as they are. A value holding a <c>\u</c> escape is written through the writer instead
    /// (<see cref="WriteTokens"/>), which decodes each string, so an escaped lone surrogate is refused as invalid text
    /// (not stored for subscribers to fail on) and escapes come out as the writer writes them.
    /// </summary>
    private static void WriteValue(Utf8JsonWriter writer, ReadOnlySpan<byte> raw)
    {
        if (raw.IndexOf("\\u"u8) < 0)
        {
            writer.WriteRawValue(raw, skipInputValidation: true);
        }
        else
        {
            WriteTokens(writer, raw, appendTraceParent: null);
        }
    }

    /// <summary>
    /// Writes <paramref name="json"/> (one value the pass has checked) token by token through <paramref name="writer"/>:
    /// names and strings decoded, then encoded as the writer encodes them; numbers as sent. With
    /// <paramref name="appendTraceParent"/>, the value is an object and gets a <c>traceparent</c> member last. Throws
    /// <see cref="InvalidOperationException"/> on a string that is not valid text.
    /// </summary>
    private static void WriteTokens(Utf8JsonWriter writer, ReadOnlySpan<byte> json, string? appendTraceParent)
    {
        var reader = new Utf8JsonReader(json, ReaderOptions);
        byte[]? rented = null;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        writer.WriteStartObject();
                        break;
                    case JsonTokenType.EndObject:
                        if (appendTraceParent is not null && reader.CurrentDepth == 0)
                        {
                            writer.WriteString(HubTracing.TraceParentHeader, appendTraceParent);
                        }

                        writer.WriteEndObject();
                        break;
                    case JsonTokenType.StartArray:
                        writer.WriteStartArray();
                        break;
                    case JsonTokenType.EndArray:
                        writer.WriteEndArray();
                        break;
                    case JsonTokenType.PropertyName:
                        writer.WritePropertyName(Unescaped(ref reader, ref rented));
                        break;
                    case JsonTokenType.String:
                        writer.WriteStringValue(Unescaped(ref reader, ref rented));
                        break;
                    case JsonTokenType.Number:
                        writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true);
                        break;
                    case JsonTokenType.True:
                        writer.WriteBooleanValue(true);
                        break;
                    case JsonTokenType.False:
                        writer.WriteBooleanValue(false);
                        break;
                    case JsonTokenType.Null:
                        writer.WriteNullValue();
                        break;
                }
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static ReadOnlySpan<byte> Unescaped(ref Utf8JsonReader reader, ref byte[]? rented)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.ValueSpan;
        }

        if (rented is null || rented.Length < reader.ValueSpan.Length)
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }

            rented = ArrayPool<byte>.Shared.Rent(reader.ValueSpan.Length);
        }

        return rented.AsSpan(0, reader.CopyString(rented));
    }

    private static void WriteStringOrNull(Utf8JsonWriter writer, JsonEncodedText name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }
}
