using System.Text;
using System.Text.Json;
using Hub.Log;
using Hub.Server.Telemetry;
using Hub.Server.Topics;

namespace Hub.Server.Publishing;

public sealed partial class PublishRequestParser
{
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
}
