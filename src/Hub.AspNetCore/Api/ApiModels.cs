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

/// <summary>A live subscription and its demand window.</summary>
/// <param name="Id">The subscription's id in the hub, unique among all live subscriptions: the one <c>DELETE /api/subscriptions/{id}</c> takes.</param>
/// <param name="SubscriptionId">Its id on its connection, which <c>events</c> carries and <c>Ask</c> takes: the <c>id</c> the client chose in <c>Subscribe</c>, or else the same as <c>id</c>.</param>
/// <param name="ConnectionId">The SignalR connection that holds it.</param>
/// <param name="Topics">Its topic patterns.</param>
/// <param name="Types">Its type filter, if any.</param>
/// <param name="Group">Its group, or null for a broadcast subscription.</param>
/// <param name="Dispatch">How it receives events: <c>broadcast</c> (every matching event), or its group's <c>demand</c> or <c>partition</c>.</param>
/// <param name="Demand"><c>auto</c> or <c>manual</c>.</param>
/// <param name="Overflow"><c>dropOldest</c> or <c>disconnect</c>.</param>
/// <param name="MaxDemand">The demand window's size.</param>
/// <param name="MinDemand">The client re-asks at or below this.</param>
/// <param name="Credits">How many more events the server may send now.</param>
/// <param name="Buffered">Events handed to the connection whose write has not completed.</param>
/// <param name="Position">The last sequence it has passed (a group member: its group's acknowledged position).</param>
/// <param name="Lag">Log positions between its position and the head.</param>
/// <param name="Delivered">Events sent.</param>
/// <param name="Dropped">Log positions skipped by its overflow policy.</param>
/// <param name="InFlight">A group member's events delivered and not yet acknowledged (0 for broadcast).</param>
public sealed record SubscriptionInfo(
    string Id,
    string SubscriptionId,
    string ConnectionId,
    IReadOnlyList<string> Topics,
    IReadOnlyList<string>? Types,
    string? Group,
    string Dispatch,
    string Demand,
    string Overflow,
    int MaxDemand,
    int MinDemand,
    long Credits,
    int Buffered,
    long Position,
    long Lag,
    long Delivered,
    long Dropped,
    int InFlight);

/// <summary>A live group: subscriptions sharing one position in the log.</summary>
/// <param name="Name">The group's name.</param>
/// <param name="Topics">Its members' topic patterns.</param>
/// <param name="Types">Its members' type filter, if any.</param>
/// <param name="Dispatch"><c>demand</c> or <c>partition</c>.</param>
/// <param name="Members">The members' subscription ids.</param>
/// <param name="Position">Every matching event up to this sequence has been acknowledged (kept across restarts).</param>
/// <param name="Cursor">The last sequence the group has read from the log.</param>
/// <param name="Lag">Log positions between its position and the head.</param>
/// <param name="Queued">Events read and waiting for a member with credits.</param>
/// <param name="InFlight">Events delivered to members and not yet acknowledged.</param>
public sealed record GroupInfo(
    string Name,
    IReadOnlyList<string> Topics,
    IReadOnlyList<string>? Types,
    string Dispatch,
    IReadOnlyList<string> Members,
    long Position,
    long Cursor,
    long Lag,
    long Queued,
    long InFlight);
