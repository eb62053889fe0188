using System.Buffers;
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
                Add(root, prefix: "", time, traceParent, output, drafts, errors, _maxEventBytes);
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
                    Add(item, $"[{index}].", time, traceParent, output, drafts, errors, _maxEventBytes);
                    index++;
                }

                break;
            default:
                return PublishParseResult.Fail("body", $"must be an event object or an array of them (got {Describe(root.ValueKind)})");
        }

        return errors.Count > 0 ? PublishParseResult.Fail(errors) : PublishParseResult.Ok(drafts);
    }

    private static void Add(JsonElement item, string prefix, DateTimeOffset time, string? traceParent, DraftWriter output, List<EventDraft> drafts, Dictionary<string, string[]> errors, int maxEventBytes)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            errors[prefix.Length == 0 ? "body" : prefix.TrimEnd('.')] = [$"must be an event object (got {Describe(item.ValueKind)})"];
            return;
        }

        var before = errors.Count;
        string? topic = null;
        if (!item.TryGetProperty("topic"u8, out var topicElement) || topicElement.ValueKind == JsonValueKind.Null)
        {
            errors[prefix + "topic"] = ["is required"];
        }
        else if (topicElement.ValueKind != JsonValueKind.String)
        {
            errors[prefix + "topic"] = [$"must be a string (got {Describe(topicElement.ValueKind)})"];
        }
        else
        {
            topic = topicElement.GetString();
            if (TopicName.Validate(topic) is { } topicError)
            {
                errors[prefix + "topic"] = [topicError];
            }
        }

        var type = OptionalString(item, "type", prefix, errors);
        var id = OptionalString(item, "id", prefix, errors);
        var key = OptionalString(item, "key", prefix, errors);
        var hasData = item.TryGetProperty("data"u8, out var data);
        var hasHeaders = item.TryGetProperty("headers"u8, out var headers) && headers.ValueKind != JsonValueKind.Null;
        if (hasHeaders)
        {
            ValidateHeaders(headers, prefix, errors);
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
                data.WriteTo(writer);
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
                headers.WriteTo(writer);
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
            errors[prefix.Length == 0 ? "body" : prefix.TrimEnd('.')] = [$"the event is {body.Length} bytes as stored, over the limit of {maxEventBytes} (Hub:Publish:MaxEventBytes)"];
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

    private static string? OptionalString(JsonElement item, string name, string prefix, Dictionary<string, string[]> errors)
    {
        if (!item.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            errors[prefix + name] = [$"must be a string or null (got {Describe(element.ValueKind)})"];
            return null;
        }

        var value = element.GetString()!;
        if (value.Length == 0 || value.Length > MaxNameLength)
        {
            errors[prefix + name] = [$"must be 1 to {MaxNameLength} characters (got {value.Length})"];
            return null;
        }

        if (!StorableText.IsStorable(value))
        {
            errors[prefix + name] = [StorableText.Rule];
            return null;
        }

        return value;
    }

    private static void ValidateHeaders(JsonElement headers, string prefix, Dictionary<string, string[]> errors)
    {
        if (headers.ValueKind != JsonValueKind.Object)
        {
            errors[prefix + "headers"] = [$"must be an object of string values (got {Describe(headers.ValueKind)})"];
            return;
        }

        var count = 0;
        foreach (var header in headers.EnumerateObject())
        {
            if (++count > MaxHeaders)
            {
                errors[prefix + "headers"] = [$"may hold at most {MaxHeaders} entries"];
                return;
            }

            if (header.Name.Length == 0 || header.Name.Length > MaxNameLength)
            {
                errors[prefix + "headers"] = [$"names must be 1 to {MaxNameLength} characters"];
                return;
            }

            if (header.Value.ValueKind != JsonValueKind.String)
            {
                errors[$"{prefix}headers.{TopicName.Shorten(header.Name)}"] = [$"must be a string (got {Describe(header.Value.ValueKind)})"];
                return;
            }

            if (header.Value.GetString()!.Length > MaxHeaderValueLength)
            {
                errors[$"{prefix}headers.{TopicName.Shorten(header.Name)}"] = [$"must be at most {MaxHeaderValueLength} characters"];
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
