using System.Diagnostics;
using System.Text;
using Hub.Log;

namespace Hub.Server.Telemetry;

/// <summary>
/// The hub's <see cref="ActivitySource"/> (<c>Hub</c>) and its two spans: one per publish request, one per batch
/// delivered to a subscriber, linked to the publish spans of the events it carries. The link goes through the W3C
/// <c>traceparent</c> that the publish writes into each event's <c>headers</c> (stored with the event, sent to clients),
/// so nothing is kept beside the log. Nothing here costs anything while no listener is attached.
/// </summary>
internal static class HubTracing
{
    /// <summary>The name of the hub's activity source.</summary>
    public const string SourceName = "Hub";

    /// <summary>The header that carries the publish's trace context in an event's <c>headers</c>.</summary>
    public const string TraceParentHeader = "traceparent";

    /// <summary>The most links a delivery span carries (the SDK's default limit is 128).</summary>
    internal const int MaxLinks = 64;

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>Starts the span of one publish request (null when nobody listens).</summary>
    public static Activity? StartPublish() => Source.StartActivity("hub publish", ActivityKind.Internal);

    /// <summary>
    /// The <c>traceparent</c> to store with the events of a publish: the publish span's, or, without one, the request's
    /// when its caller sent a trace context (so a publisher's trace carries on even with the hub's telemetry off).
    /// </summary>
    public static string? TraceParentFor(Activity? publish)
    {
        var activity = publish ?? (Activity.Current is { HasRemoteParent: true } current ? current : null);
        return activity is { IdFormat: ActivityIdFormat.W3C } ? activity.Id : null;
    }

    /// <summary>
    /// Starts the span of one batch sent to a subscriber, in a trace of its own, linked to each distinct publish span
    /// that its events carry (at most <see cref="MaxLinks"/>). Null when nobody listens.
    /// </summary>
    public static Activity? StartDelivery(string connectionId, string subscriptionId, List<LogEntry> batch)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var links = new List<ActivityLink>();
        ActivityContext last = default;
        foreach (var entry in batch)
        {
            if (links.Count == MaxLinks)
            {
                break;
            }

            if (entry.TryGetTraceContext(out var context) && context != last)
            {
                links.Add(new ActivityLink(context));
                last = context;
            }
        }

        var tags = new ActivityTagsCollection
        {
            ["messaging.system"] = "hub",
            ["messaging.operation.type"] = "send",
            ["messaging.batch.message_count"] = batch.Count,
            ["hub.subscription.id"] = subscriptionId,
            ["hub.connection.id"] = connectionId,
        };

        // A root span: the pump was started from a Subscribe call, whose trace this delivery is no part of.
        return Source.StartActivity(ActivityKind.Producer, parentContext: default, tags, links, name: "hub deliver");
    }

    /// <summary>Reads the <c>traceparent</c> header from an envelope's JSON (see <see cref="EnvelopeJson.TryReadTraceParent"/>).</summary>
    public static bool TryReadTraceParent(ReadOnlySpan<byte> envelope, out ActivityContext context) => EnvelopeJson.TryReadTraceParent(envelope, out context);
}
