using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using Hub.Log;
using Hub.Server.Telemetry;
using Hub.Server.Topics;

namespace Hub.Server.Publishing;

/// <summary>
/// Turns a <c>POST /api/events</c> body (one event object or an array of them) into drafts whose envelope JSON is
/// written once, here, or into errors that name each bad field and its batch index. All or nothing: one bad event
/// rejects the batch.
/// </summary>
public sealed class PublishRequestParser
{
    /// <summary>The longest <c>type</c>, <c>id</c>, <c>key</c> or header name accepted.</summary>
    public const int MaxNameLength = 255;

    /// <summary>The longest header value accepted.</summary>
    public const int MaxHeaderValueLength = 4096;

    /// <summary>The most headers on one event.</summary>
    public const int MaxHeaders = 64;

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        MaxDepth = 64,
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowDuplicateProperties = false,
    };

    // Property names written for every event, encoded once.
    private static readonly JsonEncodedText TopicProperty = JsonEncodedText.Encode("topic"), TypeProperty = JsonEncodedText.Encode("type"),
        IdProperty = JsonEncodedText.Encode("id"), KeyProperty = JsonEncodedText.Encode("key"), TimeProperty = JsonEncodedText.Encode("time"),
        DataProperty = JsonEncodedText.Encode("data"), HeadersProperty = JsonEncodedText.Encode("headers");

    private readonly int _maxBatchEvents;
    private readonly int _maxEventBytes;
    private readonly TimeProvider _time;

    /// <summary>Creates a parser enforcing <paramref name="maxBatchEvents"/> and <paramref name="maxEventBytes"/>.</summary>
    public PublishRequestParser(int maxBatchEvents, TimeProvider? time = null, int maxEventBytes = int.MaxValue)
    {
        _maxBatchEvents = maxBatchEvents;
        _maxEventBytes = maxEventBytes;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Creates a parser enforcing the limits of <paramref name="options"/>.</summary>
    public static PublishRequestParser Create(PublishOptions options, TimeProvider time) =>
        new(options.MaxBatchEvents, time, options.MaxEventBytes);

    /// <summary>
    /// Parses and validates <paramref name="body"/> (UTF-8 JSON). With <paramref name="traceParent"/> (the publish's W3C
    /// trace context), each event whose publisher set no <c>traceparent</c> header gets one, in the envelope written here.
    /// </summary>
    public PublishParseResult Parse(ReadOnlyMemory<byte> body, string? traceParent = null)
    {
        // The JSON reader does not check the bytes inside strings it is not asked to decode (data is copied as it is),
        // so a body that is not UTF-8 would be stored and sent to every subscriber: refuse it whole.
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            return PublishParseResult.Fail("body", $"is not valid UTF-8 (at byte {FirstInvalidByte(body.Span)})");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException ex)
        {
            return PublishParseResult.Fail("body", $"malformed JSON: {ex.Message}");
        }

        using (document)
        {
            try
            {
                return Validate(document.RootElement, traceParent);
            }
            catch (InvalidOperationException ex)
            {
                // A string holding an invalid escape such as a lone surrogate (\ud800) cannot be read as text.
                return PublishParseResult.Fail("body", $"invalid string: {ex.Message}");
            }
        }
    }

    private PublishParseResult Validate(JsonElement root, string? traceParent)
    {
        var time = _time.GetUtcNow();
        var errors = new Dictionary<string, string[]>();
        var drafts = new List<EventDraft>(root.ValueKind == JsonValueKind.Array ? Math.Min(root.GetArrayLength(), _maxBatchEvents) : 1);
        var output = new DraftWriter(time);
        switch (root.ValueKind)
        {
            case JsonValueKind.Object:
                Add(root, index: -1, time, traceParent, output, drafts, errors, _maxEventBytes);
                break;
            case JsonValueKind.Array:
                var count = root.GetArrayLength();
                if (count == 0)
                {
                    return PublishParseResult.Fail("body", "a batch must hold at least one event");
                }

                if (count > _maxBatchEvents)
                {
                    return PublishParseResult.Fail("body", $"a batch may hold at most {_maxBatchEvents} events (got {count})");
                }

                var index = 0;
                foreach (var item in root.EnumerateArray())
                {
                    Add(item, index, time, traceParent, output, drafts, errors, _maxEventBytes);
                    index++;
                }

                break;
            default:
                return PublishParseResult.Fail("body", $"must be an event object or an array of them (got {Describe(root.ValueKind)})");
        }

        return errors.Count > 0 ? PublishParseResult.Fail(errors) : PublishParseResult.Ok(drafts);
    }

    // One pass over the event's members (the document has already refused duplicate names), then the envelope. Error
    // keys name the field with its batch index ("[3].topic"); -1 is a body holding one event ("topic").
    private static void Add(JsonElement item, int index, DateTimeOffset time, string? traceParent, DraftWriter output, List<EventDraft> drafts, Dictionary<string, string[]> errors, int maxEventBytes)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            errors[Field(index, null)] = [$"must be an event object (got {Describe(item.ValueKind)})"];
            return;
        }

        JsonElement topicElement = default, typeElement = default, idElement = default, keyElement = default, data = default, headers = default;
        foreach (var member in item.EnumerateObject())
        {
            if (member.NameEquals("topic"u8))
            {
                topicElement = member.Value;
            }
            else if (member.NameEquals("data"u8))
            {
                data = member.Value;
            }
            else if (member.NameEquals("type"u8))
            {
                typeElement = member.Value;
            }
            else if (member.NameEquals("id"u8))
            {
                idElement = member.Value;
            }
            else if (member.NameEquals("key"u8))
            {
                keyElement = member.Value;
            }
            else if (member.NameEquals("headers"u8))
            {
                headers = member.Value;
            }
        }

        var before = errors.Count;
        string? topic = null;
        if (topicElement.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            errors[Field(index, "topic")] = ["is required"];
        }
        else if (topicElement.ValueKind != JsonValueKind.String)
        {
            errors[Field(index, "topic")] = [$"must be a string (got {Describe(topicElement.ValueKind)})"];
        }
        else
        {
            topic = topicElement.GetString();
            if (TopicName.Validate(topic) is { } topicError)
            {
                errors[Field(index, "topic")] = [topicError];
            }
        }

        var type = OptionalString(typeElement, "type", index, errors);
        var id = OptionalString(idElement, "id", index, errors);
        var key = OptionalString(keyElement, "key", index, errors);
        var hasData = data.ValueKind != JsonValueKind.Undefined;
        var hasHeaders = headers.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null);
        if (hasHeaders)
        {
            ValidateHeaders(headers, index, errors);
        }

        if (errors.Count != before)
        {
            return;
        }

        var writer = output.Start();
        {
            writer.WriteStartObject();
            writer.WriteString(TopicProperty, topic);
            WriteStringOrNull(writer, TypeProperty, type);
            WriteStringOrNull(writer, IdProperty, id);
            WriteStringOrNull(writer, KeyProperty, key);
            writer.WritePropertyName(TimeProperty);
            writer.WriteRawValue(output.Time, skipInputValidation: true); // the request's time, formatted once
            writer.WritePropertyName(DataProperty);
            if (hasData)
            {
                WriteValue(writer, data);
            }
            else
            {
                writer.WriteNullValue();
            }

            writer.WritePropertyName(HeadersProperty);
            if (traceParent is not null && !(hasHeaders && HasTraceParent(headers)))
            {
                writer.WriteStartObject();
                if (hasHeaders)
                {
                    foreach (var header in headers.EnumerateObject())
                    {
                        header.WriteTo(writer);
                    }
                }

                writer.WriteString(HubTracing.TraceParentHeader, traceParent);
                writer.WriteEndObject();
            }
            else if (hasHeaders)
            {
                WriteValue(writer, headers);
            }
            else
            {
                writer.WriteNullValue();
            }

            writer.WriteEndObject();
        }

        var body = output.Finish();
        if (body.Length > maxEventBytes)
        {
            errors[Field(index, null)] = [$"the event is {body.Length} bytes as stored, over the limit of {maxEventBytes} (Hub:Publish:MaxEventBytes)"];
            return;
        }

        drafts.Add(new EventDraft(topic!, type, id, key, time, body));
    }

    private static bool HasTraceParent(JsonElement headers)
    {
        foreach (var header in headers.EnumerateObject())
        {
            if (header.NameEquals(HubTracing.TraceParentHeader) || string.Equals(header.Name, HubTracing.TraceParentHeader, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static string? OptionalString(JsonElement element, string name, int index, Dictionary<string, string[]> errors)
    {
        if (element.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            errors[Field(index, name)] = [$"must be a string or null (got {Describe(element.ValueKind)})"];
            return null;
        }

        var value = element.GetString()!;
        if (value.Length == 0 || value.Length > MaxNameLength)
        {
            errors[Field(index, name)] = [$"must be 1 to {MaxNameLength} characters (got {value.Length})"];
            return null;
        }

        if (!StorableText.IsStorable(value))
        {
            errors[Field(index, name)] = [StorableText.Rule];
            return null;
        }

        return value;
    }

    private static void ValidateHeaders(JsonElement headers, int index, Dictionary<string, string[]> errors)
    {
        if (headers.ValueKind != JsonValueKind.Object)
        {
            errors[Field(index, "headers")] = [$"must be an object of string values (got {Describe(headers.ValueKind)})"];
            return;
        }

        var count = 0;
        foreach (var header in headers.EnumerateObject())
        {
            if (++count > MaxHeaders)
            {
                errors[Field(index, "headers")] = [$"may hold at most {MaxHeaders} entries"];
                return;
            }

            if (header.Name.Length == 0 || header.Name.Length > MaxNameLength)
            {
                errors[Field(index, "headers")] = [$"names must be 1 to {MaxNameLength} characters"];
                return;
            }

            if (header.Value.ValueKind != JsonValueKind.String)
            {
                errors[Field(index, $"headers.{TopicName.Shorten(header.Name)}")] = [$"must be a string (got {Describe(header.Value.ValueKind)})"];
                return;
            }

            if (header.Value.GetString()!.Length > MaxHeaderValueLength)
            {
                errors[Field(index, $"headers.{TopicName.Shorten(header.Name)}")] = [$"must be at most {MaxHeaderValueLength} characters"];
                return;
            }
        }
    }

    /// <summary>
    /// One buffer and one writer for every event of a request: each event's JSON is copied out once. Every event of a
    /// request carries the same time, so its JSON string is formatted once (<see cref="Time"/>).
    /// </summary>
    private sealed class DraftWriter
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(1024);
        private readonly Utf8JsonWriter _writer;

        public DraftWriter(DateTimeOffset time)
        {
            _writer = new Utf8JsonWriter(_buffer);
            _writer.WriteStringValue(time.UtcDateTime);
            _writer.Flush();
            Time = _buffer.WrittenSpan.ToArray();
        }

        /// <summary>The request's time as a JSON string, quotes included, exactly as <see cref="Utf8JsonWriter"/> writes it.</summary>
        public byte[] Time { get; }

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

    /// <summary>The error key of <paramref name="field"/> (or of the event itself, when null) of the event at <paramref name="index"/>.</summary>
    private static string Field(int index, string? field) => (index, field) switch
    {
        (< 0, null) => "body",
        (< 0, _) => field,
        (_, null) => $"[{index}]",
        _ => $"[{index}].{field}",
    };

    /// <summary>
    /// Writes a member's value (<c>data</c>, <c>headers</c>) as the publisher sent it: its bytes, which the document has
    /// validated, copied as they are. A value holding a <c>\u</c> escape is written through the writer instead, which
    /// decodes each string, so an escaped lone surrogate is refused as invalid text (not stored for subscribers to fail
    /// on) and escapes come out as the writer writes them.
    /// </summary>
    private static void WriteValue(Utf8JsonWriter writer, JsonElement value)
    {
        var raw = JsonMarshal.GetRawUtf8Value(value);
        if (raw.IndexOf("\\u"u8) < 0)
        {
            writer.WriteRawValue(raw, skipInputValidation: true);
        }
        else
        {
            value.WriteTo(writer);
        }
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

    private static int FirstInvalidByte(ReadOnlySpan<byte> body)
    {
        var status = System.Text.Unicode.Utf8.ToUtf16(body, new char[body.Length], out var read, out _, replaceInvalidSequences: false);
        return status == System.Buffers.OperationStatus.Done ? body.Length : read;
    }

    internal static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
