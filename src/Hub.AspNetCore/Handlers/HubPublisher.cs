using System.Buffers;
using System.Text.Json;
using Hub.Log;
using Hub.Server.Api;
using Hub.Server.Publishing;
using Hub.Server.Telemetry;

namespace Hub.Server.Handlers;

/// <summary>
/// <see cref="IHubPublisher"/> over the REST path's own parts: the events are written as the JSON body
/// <c>POST /api/events</c> would receive, validated by the same <see cref="PublishRequestParser"/> (one validation, one
/// envelope writer), appended by the log, and counted in the same totals.
/// </summary>
internal sealed class HubPublisher(IEventLog log, PublishRequestParser parser, HubMetrics metrics) : IHubPublisher
{
    /// <summary>The subject in-process idempotency keys are scoped to: never a credential's (a token's <c>sub</c>, an
    /// API key's <c>key:NAME</c>, or the anonymous one), so no client can pre-empt or read them.</summary>
    internal const string Subject = "in-process:";

    public async Task<PublishedEvent> PublishAsync(NewEvent @event, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(@event);
        return (await PublishAsync(Write(writer => WriteEvent(writer, @event, "")), null, cancellationToken).ConfigureAwait(false))[0];
    }

    public Task<IReadOnlyList<PublishedEvent>> PublishAsync(IReadOnlyList<NewEvent> events, string? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (idempotencyKey is not null && (idempotencyKey.Length is 0 or > EventsEndpoints.MaxIdempotencyKeyLength || idempotencyKey.Any(char.IsControl)))
        {
            throw new HubPublishException(new Dictionary<string, string[]>
            {
                ["idempotencyKey"] = [$"must be 1 to {EventsEndpoints.MaxIdempotencyKeyLength} printable characters"],
            });
        }

        var body = Write(writer =>
        {
            writer.WriteStartArray();
            for (var i = 0; i < events.Count; i++)
            {
                WriteEvent(writer, events[i] ?? throw new ArgumentException($"events[{i}] is null.", nameof(events)), $"[{i}].");
            }

            writer.WriteEndArray();
        });
        return PublishAsync(body, idempotencyKey, cancellationToken);
    }

    private async Task<IReadOnlyList<PublishedEvent>> PublishAsync(byte[] body, string? idempotencyKey, CancellationToken cancellationToken)
    {
        using var activity = HubTracing.StartPublish();
        var parsed = parser.Parse(body, HubTracing.TraceParentFor(activity));
        if (parsed.Errors is not null)
        {
            throw new HubPublishException(parsed.Errors);
        }

        var key = idempotencyKey is null ? (IdempotencyKey?)null : new IdempotencyKey(Subject, idempotencyKey);
        var appended = await log.AppendAsync(parsed.Drafts!, key, cancellationToken).ConfigureAwait(false);
        var events = new PublishedEvent[appended.Count];
        var added = 0;
        for (var i = 0; i < events.Length; i++)
        {
            var a = appended[i];
            events[i] = new PublishedEvent(a.Sequence, a.Topic, a.Id, a.Duplicate);
            added += a.Duplicate ? 0 : 1;
        }

        metrics.RecordPublished(events.Length, added);
        return events;
    }

    private static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes one event as a publisher's JSON; what the parser checks is left to it (a null topic is written as
    /// null, and answered "is required").</summary>
    private static void WriteEvent(Utf8JsonWriter writer, NewEvent e, string prefix)
    {
        writer.WriteStartObject();
        writer.WriteString("topic", e.Topic);
        writer.WriteString("type", e.Type);
        writer.WriteString("id", e.Id);
        writer.WriteString("key", e.Key);
        writer.WritePropertyName("data");
        try
        {
            JsonSerializer.Serialize(writer, e.Data, e.Data?.GetType() ?? typeof(object), JsonSerializerOptions.Web);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException)
        {
            throw new HubPublishException(new Dictionary<string, string[]> { [prefix + "data"] = [$"cannot be written as JSON: {ex.Message}"] });
        }

        if (e.Headers is not null)
        {
            writer.WriteStartObject("headers");
            foreach (var (name, value) in e.Headers)
            {
                writer.WriteString(name, value);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }
}
