using System.Text.Json;

namespace Hub.Server.Api;

// The shapes of the REST API as the OpenAPI document shows them. Responses that carry events are written from the
// log's stored JSON (serialized once, at append); these records give those bodies their schema.

/// <summary>An event as a publisher sends it.</summary>
/// <param name="Topic">Dot-separated segments of [A-Za-z0-9_-], 1 to 255 characters, e.g. <c>orders.eu.created</c>.</param>
/// <param name="Type">The event's type, e.g. <c>order.created</c>; subscribers may filter on it.</param>
/// <param name="Id">Makes the publish idempotent: the same (topic, id) within the dedup window answers the first sequence and appends nothing.</param>
/// <param name="Key">A partition key (groups with <c>dispatch: "partition"</c> route by it).</param>
/// <param name="Data">Any JSON value.</param>
/// <param name="Headers">String metadata.</param>
public sealed record EventInput(string Topic, string? Type, string? Id, string? Key, JsonElement? Data, IReadOnlyDictionary<string, string>? Headers);

/// <summary>The answer to a publish: one entry per event, in the order sent.</summary>
/// <param name="Events">The sequences the events got.</param>
public sealed record PublishResponse(IReadOnlyList<PublishedEvent> Events);

/// <summary>Where one published event went.</summary>
/// <param name="Sequence">Its position in the log (the first publish's, for a duplicate).</param>
/// <param name="Topic">Its topic.</param>
/// <param name="Id">Its id, when it had one.</param>
/// <param name="Duplicate">True when the same (topic, id) was published before within the dedup window: nothing was appended.</param>
public sealed record PublishedEvent(long Sequence, string Topic, string? Id, bool Duplicate);

/// <summary>An event as the log holds it and subscribers receive it.</summary>
/// <param name="Sequence">Its position in the log.</param>
/// <param name="Topic">Its topic.</param>
/// <param name="Type">Its type, if any.</param>
/// <param name="Id">The publisher's id, if any.</param>
/// <param name="Key">The partition key, if any.</param>
/// <param name="Time">When the hub accepted it.</param>
/// <param name="Data">The payload.</param>
/// <param name="Headers">String metadata, if any.</param>
public sealed record EventEnvelope(long Sequence, string Topic, string? Type, string? Id, string? Key, DateTimeOffset Time, JsonElement? Data, IReadOnlyDictionary<string, string>? Headers);

/// <summary>A page of the log.</summary>
/// <param name="Events">The matching events after <c>after</c>, in sequence order. Possibly fewer than <c>limit</c>, or none, when the read examined <c>Hub:Log:MaxScanEvents</c> entries or the page reached <c>Hub:Log:MaxPageBytes</c>: read on from <c>next</c>.</param>
/// <param name="Next">Pass this as <c>after</c> to read on: the last sequence this page examined (the head once everything is read).</param>
/// <param name="Epoch">The log's epoch: sequences belong to it. Pass it as <c>epoch</c> with <c>after</c>, so that a reset log answers 409 instead of a page of another log.</param>
public sealed record EventsPage(IReadOnlyList<EventEnvelope> Events, long Next, string Epoch);

/// <summary>A topic seen by the hub.</summary>
/// <param name="Topic">The topic.</param>
/// <param name="Count">Events published to it.</param>
/// <param name="LastSequence">The sequence of the last one.</param>
public sealed record TopicInfo(string Topic, long Count, long LastSequence);
