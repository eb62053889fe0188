using System.Text.Json;

namespace Hub.Server.Publishing;

/// <summary>
/// Turns a <c>POST /api/events</c> body (one event object or an array of them) into drafts whose envelope JSON is
/// written once, here, or into errors that name each bad field and its batch index. All or nothing: one bad event
/// rejects the batch. One forward pass of <see cref="Utf8JsonReader"/> over the body checks the JSON (depth, no
/// comments, no trailing commas, no duplicate property names at any depth), validates each event's members and
/// writes its envelope as it goes.
/// </summary>
public sealed partial class PublishRequestParser
{
    /// <summary>The longest <c>type</c>, <c>id</c>, <c>key</c> or header name accepted.</summary>
    public const int MaxNameLength = 255;

    /// <summary>The longest header value accepted.</summary>
    public const int MaxHeaderValueLength = 4096;

    /// <summary>The most headers on one event.</summary>
    public const int MaxHeaders = 64;

    /// <summary>The deepest nesting of objects and arrays accepted in a body.</summary>
    public const int MaxDepth = 64;

    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        MaxDepth = MaxDepth,
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
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
    /// <remarks>
    /// What a body gets, first match wins (as when a <see cref="JsonDocument"/> read it first): not UTF-8; malformed JSON
    /// (the reader's message, at the first place met); a duplicate property name, or an escaped one that is not valid
    /// text, in the object that ends first; not an object or array; an empty batch; a batch over <c>MaxBatchEvents</c>
    /// (counted whole); a string that is not valid text (an escaped lone surrogate) in the first event that reads it (in
    /// the order topic, type, id, key, headers, data); then every bad field of every event.
    /// </remarks>
    public PublishParseResult Parse(ReadOnlyMemory<byte> body, string? traceParent = null)
    {
        // The JSON reader does not check the bytes inside strings it is not asked to decode (data is copied as it is),
        // so a body that is not UTF-8 would be stored and sent to every subscriber: refuse it whole.
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            return PublishParseResult.Fail("body", $"is not valid UTF-8 (at byte {FirstInvalidByte(body.Span)})");
        }

        // Parse runs on one thread without awaiting: its scratch (names, envelope buffer and writer) is the thread's.
        var pass = t_pass ?? new Pass();
        t_pass = null;
        pass.Start(this, body, traceParent);
        var reader = new Utf8JsonReader(body.Span, ReaderOptions);
        try
        {
            pass.Run(ref reader);
            return pass.Result();
        }
        catch (JsonException ex)
        {
            return PublishParseResult.Fail("body", $"malformed JSON: {ex.Message}");
        }
        catch (InvalidOperationException ex)
        {
            // A property name holding an invalid escape such as a lone surrogate (\ud800) cannot be compared with the
            // object's other names: refused as malformed JSON is.
            return PublishParseResult.Fail("body", $"invalid string: {ex.Message}");
        }
        finally
        {
            if (pass.End())
            {
                t_pass = pass;
            }
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

    private static int FirstInvalidByte(ReadOnlySpan<byte> body)
    {
        var status = System.Text.Unicode.Utf8.ToUtf16(body, new char[body.Length], out var read, out _, replaceInvalidSequences: false);
        return status == System.Buffers.OperationStatus.Done ? body.Length : read;
    }

    /// <summary>What a value starting with <paramref name="token"/> is, in the words of <see cref="Describe(JsonValueKind)"/>.</summary>
    private static string Describe(JsonTokenType token) => Describe(token switch
    {
        JsonTokenType.StartObject => JsonValueKind.Object,
        JsonTokenType.StartArray => JsonValueKind.Array,
        JsonTokenType.String => JsonValueKind.String,
        JsonTokenType.Number => JsonValueKind.Number,
        JsonTokenType.True => JsonValueKind.True,
        JsonTokenType.False => JsonValueKind.False,
        JsonTokenType.Null => JsonValueKind.Null,
        _ => JsonValueKind.Undefined,
    });

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
