namespace Hub.Server.Subscriptions;

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
/// <param name="InFlight">A group member's events delivered and not yet acknowledged; an in-process handler's events handed to its calls and not yet completed (0 for a broadcast subscriber).</param>
/// <param name="Kind">What consumes it: <c>subscriber</c> (a SignalR subscription), <c>group</c> (a member of a group) or <c>handler</c> (an in-process handler, whose <c>id</c> is <c>handler:NAME</c> and <c>connectionId</c> <c>in-process</c>).</param>
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
    int InFlight,
    string Kind);
