using System.Buffers;
using System.Text;
using System.Text.Json;
using Hub.Log;
using Hub.Server.Telemetry;
using Hub.Server.Topics;

namespace Hub.Server.Publishing;

/// <summary>
/// Turns a <c>POST /api/events</c> body (one event object or an array of them) into drafts whose envelope JSON is
/// written once, here, or into errors that name each bad field and its batch index. All or nothing: one bad event
/// rejects the batch. One forward pass of <see cref="Utf8JsonReader"/> over the body checks the JSON (depth, no
/// comments, no trailing commas, no duplicate property names at any depth), validates each event's members and
/// writes its envelope as it goes.
/// </summary>
public sealed class PublishRequestParser
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

    [ThreadStatic]
    private static Pass? t_pass;

    /// <summary>
    /// The state of one <see cref="Parse"/>: the drafts and errors so far, the property names of each open object (for
    /// duplicates), the count of the batch's elements. Kept per thread between requests (<see cref="End"/>).
    /// </summary>
    private sealed class Pass
    {
        // Scratch past this size is not kept for the thread's next request.
        private const int MaxKeptBytes = 64 * 1024;

        private readonly PropertyNames _names = new();
        private readonly DraftWriter _output = new();
        private readonly List<EventDraft> _drafts = [];
        private PublishRequestParser _parser = null!;
        private ReadOnlyMemory<byte> _body;
        private string? _traceParent;
        private Dictionary<string, string[]>? _errors;
        private JsonTokenType _root;
        private int _count;
        private string? _lastTopic;
        private (int Start, int Length) _lastTopicBytes;

        // The message of the first string that is not valid text met in the order the events are validated; once set,
        // the rest of the body is only checked as JSON.
        private string? _invalidString;

        public void Start(PublishRequestParser parser, ReadOnlyMemory<byte> body, string? traceParent)
        {
            (_parser, _body, _traceParent) = (parser, body, traceParent);
            _names.Start(body);
            _output.Start(parser._time.GetUtcNow());
        }

        /// <summary>Lets go of the request (its body, drafts, errors); false when the scratch grew too large to keep.</summary>
        public bool End()
        {
            (_parser, _body, _traceParent, _errors, _root, _count, _invalidString, _lastTopic) = (null!, default, null, null, default, 0, null, null);
            _drafts.Clear();
            return _names.End() && _output.Capacity <= MaxKeptBytes && _drafts.Capacity <= MaxKeptBytes / 8;
        }

        public void Run(ref Utf8JsonReader reader)
        {
            Next(ref reader);
            _root = reader.TokenType;
            switch (_root)
            {
                case JsonTokenType.StartObject:
                    Event(ref reader, index: -1);
                    break;
                case JsonTokenType.StartArray:
                    // Every element is counted, and checked as JSON; past MaxBatchEvents the batch fails whole, so its
                    // events are no longer validated.
                    while (true)
                    {
                        Next(ref reader);
                        if (reader.TokenType == JsonTokenType.EndArray)
                        {
                            break;
                        }

                        if (_count < _parser._maxBatchEvents && _invalidString is null)
                        {
                            Element(ref reader, _count);
                        }
                        else
                        {
                            Walk(ref reader);
                        }

                        _count++;
                    }

                    break;
            }

            // Anything after the root value throws (the reader's "invalid after a single JSON value").
            reader.Read();
            if (_names.Failure is { } failure)
            {
                throw failure;
            }
        }

        public PublishParseResult Result()
        {
            switch (_root)
            {
                case JsonTokenType.StartObject:
                    break;
                case JsonTokenType.StartArray when _count == 0:
                    return PublishParseResult.Fail("body", "a batch must hold at least one event");
                case JsonTokenType.StartArray when _count > _parser._maxBatchEvents:
                    return PublishParseResult.Fail("body", $"a batch may hold at most {_parser._maxBatchEvents} events (got {_count})");
                case JsonTokenType.StartArray:
                    break;
                default:
                    return PublishParseResult.Fail("body", $"must be an event object or an array of them (got {Describe(_root)})");
            }

            if (_invalidString is not null)
            {
                return PublishParseResult.Fail("body", $"invalid string: {_invalidString}");
            }

            return _errors is not null ? PublishParseResult.Fail(_errors) : PublishParseResult.Ok(_drafts.ToArray());
        }

        private void Element(ref Utf8JsonReader reader, int index)
        {
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                Event(ref reader, index);
            }
            else
            {
                Error(Field(index, null), $"must be an event object (got {Describe(reader.TokenType)})");
                Walk(ref reader);
            }
        }

        // One pass over the event's members (reader on its '{', left on its '}'), then its checks in a fixed order
        // (topic, type, id, key, headers), then its envelope. Error keys name the field with its batch index
        // ("[3].topic"); -1 is a body holding one event ("topic").
        private void Event(ref Utf8JsonReader reader, int index)
        {
            Member topic = default, type = default, id = default, key = default;
            var data = (Start: 0, End: -1);
            var headers = default(Headers);
            _names.Push();
            while (true)
            {
                Next(ref reader);
                if (reader.TokenType == JsonTokenType.EndObject)
                {
                    break;
                }

                var name = _names.Add(ref reader);
                Next(ref reader);
                if (name.SequenceEqual("topic"u8))
                {
                    topic = ReadTopic(ref reader);
                }
                else if (name.SequenceEqual("data"u8))
                {
                    data.Start = (int)reader.TokenStartIndex;
                    Walk(ref reader);
                    data.End = (int)reader.BytesConsumed;
                }
                else if (name.SequenceEqual("type"u8))
                {
                    type = ReadMember(ref reader);
                }
                else if (name.SequenceEqual("id"u8))
                {
                    id = ReadMember(ref reader);
                }
                else if (name.SequenceEqual("key"u8))
                {
                    key = ReadMember(ref reader);
                }
                else if (name.SequenceEqual("headers"u8))
                {
                    headers = ReadHeaders(ref reader);
                }
                else
                {
                    Walk(ref reader);
                }
            }

            _names.Pop();

            var before = _errors?.Count ?? 0;
            if (topic.Kind is JsonTokenType.None or JsonTokenType.Null)
            {
                Error(Field(index, "topic"), "is required");
            }
            else if (topic.Kind != JsonTokenType.String)
            {
                Error(Field(index, "topic"), $"must be a string (got {Describe(topic.Kind)})");
            }
            else if (topic.Invalid is not null)
            {
                _invalidString = topic.Invalid;
                return;
            }
            else if (TopicName.Validate(topic.Value) is { } topicError)
            {
                Error(Field(index, "topic"), topicError);
            }

            if (!OptionalString(type, "type", index) || !OptionalString(id, "id", index) || !OptionalString(key, "key", index))
            {
                return;
            }

            var hasHeaders = headers.Kind is not (JsonTokenType.None or JsonTokenType.Null);
            if (hasHeaders)
            {
                if (headers.Kind != JsonTokenType.StartObject)
                {
                    Error(Field(index, "headers"), $"must be an object of string values (got {Describe(headers.Kind)})");
                }
                else if (headers.Invalid is not null)
                {
                    _invalidString = headers.Invalid;
                    return;
                }
                else if (headers.ErrorField is not null)
                {
                    Error(Field(index, headers.ErrorField), headers.ErrorMessage!);
                }
            }

            if ((_errors?.Count ?? 0) != before)
            {
                return;
            }

            var span = _body.Span;
            var writer = _output.Start();
            try
            {
                writer.WriteStartObject();
                writer.WriteString(TopicProperty, topic.Value);
                WriteStringOrNull(writer, TypeProperty, type.Value);
                WriteStringOrNull(writer, IdProperty, id.Value);
                WriteStringOrNull(writer, KeyProperty, key.Value);
                writer.WritePropertyName(TimeProperty);
                writer.WriteRawValue(_output.Time, skipInputValidation: true); // the request's time, formatted once
                writer.WritePropertyName(DataProperty);
                if (data.End >= 0)
                {
                    WriteValue(writer, span[data.Start..data.End]);
                }
                else
                {
                    writer.WriteNullValue();
                }

                writer.WritePropertyName(HeadersProperty);
                if (_traceParent is not null && !(hasHeaders && headers.HasTraceParent))
                {
                    if (hasHeaders)
                    {
                        // The publisher's headers, each written through the writer, then the trace context.
                        WriteTokens(writer, span[headers.Start..headers.End], _traceParent);
                    }
                    else
                    {
                        writer.WriteStartObject();
                        writer.WriteString(HubTracing.TraceParentHeader, _traceParent);
                        writer.WriteEndObject();
                    }
                }
                else if (hasHeaders)
                {
                    WriteValue(writer, span[headers.Start..headers.End]);
                }
                else
                {
                    writer.WriteNullValue();
                }

                writer.WriteEndObject();
            }
            catch (InvalidOperationException ex)
            {
                // A string in data holding an invalid escape such as a lone surrogate (\ud800) cannot be written as text.
                _invalidString = ex.Message;
                return;
            }

            var envelope = _output.Finish();
            if (envelope.Length > _parser._maxEventBytes)
            {
                Error(Field(index, null), $"the event is {envelope.Length} bytes as stored, over the limit of {_parser._maxEventBytes} (Hub:Publish:MaxEventBytes)");
                return;
            }

            _drafts.Add(new EventDraft(topic.Value!, type.Value, id.Value, key.Value, _output.RequestTime, envelope));
        }

        // False when the member's string is not valid text: the pass then stops validating events.
        private bool OptionalString(in Member member, string name, int index)
        {
            if (member.Kind is JsonTokenType.None or JsonTokenType.Null)
            {
                return true;
            }

            if (member.Kind != JsonTokenType.String)
            {
                Error(Field(index, name), $"must be a string or null (got {Describe(member.Kind)})");
                return true;
            }

            if (member.Invalid is not null)
            {
                _invalidString = member.Invalid;
                return false;
            }

            var value = member.Value!;
            if (value.Length == 0 || value.Length > MaxNameLength)
            {
                Error(Field(index, name), $"must be 1 to {MaxNameLength} characters (got {value.Length})");
            }
            else if (!StorableText.IsStorable(value))
            {
                Error(Field(index, name), StorableText.Rule);
            }

            return true;
        }

        // A batch's events mostly share their topic: the previous event's string is reused when the bytes are the same.
        private Member ReadTopic(ref Utf8JsonReader reader)
        {
            if (reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && _lastTopic is not null
                && reader.ValueSpan.SequenceEqual(_body.Span.Slice(_lastTopicBytes.Start, _lastTopicBytes.Length)))
            {
                return new Member { Kind = JsonTokenType.String, Value = _lastTopic };
            }

            var topic = ReadMember(ref reader);
            if (topic.Value is not null && !reader.ValueIsEscaped)
            {
                (_lastTopic, _lastTopicBytes) = (topic.Value, ((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length));
            }

            return topic;
        }

        // topic, type, id or key: its kind, and its text when it is a string (or why it is not valid text).
        private Member ReadMember(ref Utf8JsonReader reader)
        {
            var member = new Member { Kind = reader.TokenType };
            if (reader.TokenType == JsonTokenType.String)
            {
                try
                {
                    member.Value = reader.GetString();
                }
                catch (InvalidOperationException ex)
                {
                    member.Invalid = ex.Message;
                }
            }
            else
            {
                Walk(ref reader);
            }

            return member;
        }

        // The headers member: its kind and bytes, and the first problem in it (checked in order, as a publisher sent
        // them): too many, a bad name, a value that is not a string, too long, or not valid text.
        private Headers ReadHeaders(ref Utf8JsonReader reader)
        {
            var headers = new Headers { Kind = reader.TokenType, Start = (int)reader.TokenStartIndex };
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                Walk(ref reader);
                return headers;
            }

            var count = 0;
            var found = false; // a problem was found: the rest is only walked
            _names.Push();
            while (true)
            {
                Next(ref reader);
                if (reader.TokenType == JsonTokenType.EndObject)
                {
                    break;
                }

                var name = _names.Add(ref reader);
                if (!found)
                {
                    if (++count > MaxHeaders)
                    {
                        (found, headers.ErrorField, headers.ErrorMessage) = (true, "headers", $"may hold at most {MaxHeaders} entries");
                    }
                    else if (name.Length is 0 or > MaxNameLength && Encoding.UTF8.GetCharCount(name) is 0 or > MaxNameLength)
                    {
                        (found, headers.ErrorField, headers.ErrorMessage) = (true, "headers", $"names must be 1 to {MaxNameLength} characters");
                    }
                    else if (name.Length == HubTracing.TraceParentHeader.Length && Ascii.EqualsIgnoreCase(name, HubTracing.TraceParentHeader))
                    {
                        headers.HasTraceParent = true;
                    }
                }

                Next(ref reader);
                if (!found)
                {
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        (found, headers.ErrorField, headers.ErrorMessage) = (true, HeaderField(name), $"must be a string (got {Describe(reader.TokenType)})");
                    }
                    else if (reader.ValueIsEscaped || reader.ValueSpan.Length > MaxHeaderValueLength)
                    {
                        try
                        {
                            if ((reader.ValueIsEscaped ? reader.GetString()!.Length : Encoding.UTF8.GetCharCount(reader.ValueSpan)) > MaxHeaderValueLength)
                            {
                                (found, headers.ErrorField, headers.ErrorMessage) = (true, HeaderField(name), $"must be at most {MaxHeaderValueLength} characters");
                            }
                        }
                        catch (InvalidOperationException ex)
                        {
                            (found, headers.Invalid) = (true, ex.Message);
                        }
                    }
                }

                Walk(ref reader);
            }

            _names.Pop();
            headers.End = (int)reader.BytesConsumed;
            return headers;
        }

        private static string HeaderField(ReadOnlySpan<byte> name) => $"headers.{TopicName.Shorten(Encoding.UTF8.GetString(name))}";

        // Reads past the value the reader is on (a scalar, or an object or array to its end), checking its property names.
        private void Walk(ref Utf8JsonReader reader)
        {
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                _names.Push();
            }
            else if (reader.TokenType != JsonTokenType.StartArray)
            {
                return;
            }

            var depth = reader.CurrentDepth;
            while (true)
            {
                Next(ref reader);
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        _names.Add(ref reader);
                        break;
                    case JsonTokenType.StartObject:
                        _names.Push();
                        break;
                    case JsonTokenType.EndObject:
                        _names.Pop();
                        if (reader.CurrentDepth == depth)
                        {
                            return;
                        }

                        break;
                    case JsonTokenType.EndArray when reader.CurrentDepth == depth:
                        return;
                }
            }
        }

        private void Error(string field, string message) => (_errors ??= [])[field] = [message];
    }

    /// <summary>Reads the next token; the body ending early throws from the reader itself (it is the final block).</summary>
    private static void Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new JsonException("Unexpected end of the JSON payload.");
        }
    }

    /// <summary>An event's topic, type, id or key as read: its token kind (None when absent) and its text.</summary>
    private struct Member
    {
        public JsonTokenType Kind;
        public string? Value;
        public string? Invalid;
    }

    /// <summary>An event's headers as read: kind, where their bytes are, the first problem, whether a traceparent is set.</summary>
    private struct Headers
    {
        public JsonTokenType Kind;
        public int Start, End;
        public string? ErrorField, ErrorMessage, Invalid;
        public bool HasTraceParent;
    }

    /// <summary>
    /// The property names of each open object, compared unescaped when the object ends: a name met twice in one object
    /// is malformed JSON, and an escaped name that is not valid text (a lone surrogate) cannot be compared. As
    /// <see cref="JsonDocument"/> did, the first such failure in the order the objects end (and in each, the order of
    /// its names) is reported, and only when the whole body is well-formed JSON otherwise (<see cref="Failure"/>).
    /// An object's names are looked up in a set from <see cref="SetThreshold"/> names on.
    /// </summary>
    private sealed class PropertyNames
    {
        private const int SetThreshold = 8;
        private const int MaxKeptNames = 4096;
        private ReadOnlyMemory<byte> _body;
        private readonly List<(ReadOnlyMemory<byte> Name, string? Invalid)> _names = [];
        private readonly List<int> _starts = [];
        private HashSet<ReadOnlyMemory<byte>>? _set;

        /// <summary>The first duplicate name (a <see cref="JsonException"/>) or name that is not valid text (an <see cref="InvalidOperationException"/>).</summary>
        public Exception? Failure { get; private set; }

        public void Start(ReadOnlyMemory<byte> body) => _body = body;

        /// <summary>Lets go of the request's names; false when the lists grew too large to keep.</summary>
        public bool End()
        {
            (_body, Failure) = (default, null);
            _names.Clear();
            _starts.Clear();
            _set = null;
            return _names.Capacity <= MaxKeptNames && _starts.Capacity <= MaxDepth + 1;
        }

        public void Push() => _starts.Add(_names.Count);

        public void Pop()
        {
            var start = _starts[^1];
            _starts.RemoveAt(_starts.Count - 1);
            if (Failure is null)
            {
                Check(start);
            }

            _names.RemoveRange(start, _names.Count - start);
        }

        /// <summary>Adds the name the reader is on to the innermost object; returns it unescaped (empty when it is not valid text).</summary>
        public ReadOnlySpan<byte> Add(ref Utf8JsonReader reader)
        {
            if (!reader.ValueIsEscaped)
            {
                if (Failure is null)
                {
                    _names.Add((_body.Slice((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length), null));
                }

                return reader.ValueSpan;
            }

            var unescaped = new byte[reader.ValueSpan.Length];
            try
            {
                var name = unescaped.AsMemory(0, reader.CopyString(unescaped));
                if (Failure is null)
                {
                    _names.Add((name, null));
                }

                return name.Span;
            }
            catch (InvalidOperationException ex)
            {
                if (Failure is null)
                {
                    _names.Add((default, ex.Message));
                }

                return default;
            }
        }

        private void Check(int start)
        {
            var count = _names.Count - start;
            if (count >= SetThreshold)
            {
                (_set ??= new HashSet<ReadOnlyMemory<byte>>(NameComparer.Instance)).Clear();
            }

            for (var i = start; i < _names.Count; i++)
            {
                var (name, invalid) = _names[i];
                if (invalid is not null)
                {
                    Failure = new InvalidOperationException(invalid);
                    return;
                }

                if (count >= SetThreshold ? !_set!.Add(name) : Contains(start, i, name.Span))
                {
                    var text = Encoding.UTF8.GetString(name.Span);
                    // Worded as JsonDocument words it (the name cut at 15 characters), which is what publishers were told before.
                    Failure = new JsonException($"Duplicate property '{(text.Length <= 15 ? text : string.Concat(text.AsSpan(0, 15), "..."))}' encountered during deserialization.");
                    return;
                }
            }
        }

        private bool Contains(int start, int end, ReadOnlySpan<byte> name)
        {
            for (var i = start; i < end; i++)
            {
                if (_names[i].Name.Span.SequenceEqual(name))
                {
                    return true;
                }
            }

            return false;
        }
    }

    private sealed class NameComparer : IEqualityComparer<ReadOnlyMemory<byte>>
    {
        public static readonly NameComparer Instance = new();

        public bool Equals(ReadOnlyMemory<byte> x, ReadOnlyMemory<byte> y) => x.Span.SequenceEqual(y.Span);

        public int GetHashCode(ReadOnlyMemory<byte> name)
        {
            var hash = new HashCode();
            hash.AddBytes(name.Span);
            return hash.ToHashCode();
        }
    }

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

    /// <summary>The error key of <paramref name="field"/> (or of the event itself, when null) of the event at <paramref name="index"/>.</summary>
    private static string Field(int index, string? field) => (index, field) switch
    {
        (< 0, null) => "body",
        (< 0, _) => field,
        (_, null) => $"[{index}]",
        _ => $"[{index}].{field}",
    };

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

    private static int FirstInvalidByte(ReadOnlySpan<byte> body)
    {
        var status = System.Text.Unicode.Utf8.ToUtf16(body, new char[body.Length], out var read, out _, replaceInvalidSequences: false);
        return status == System.Buffers.OperationStatus.Done ? body.Length : read;
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => "nothing",
    };

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
