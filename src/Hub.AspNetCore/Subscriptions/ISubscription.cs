namespace Hub.Server.Subscriptions;

/// <summary>
/// A live subscription as the hub, the REST API and the dashboard see it: a broadcast <see cref="Subscription"/> or a
/// member of a group (<see cref="Groups.GroupMember"/>).
/// </summary>
public interface ISubscription
{
    /// <summary>The subscription's id in the hub: unique among all live subscriptions, the <c>id</c> of
    /// <c>GET /api/subscriptions</c> and <c>DELETE /api/subscriptions/{id}</c>, and the key of logs and metrics.</summary>
    string Id { get; }

    /// <summary>The id on its connection, which <c>events</c>, <c>gap</c> and <c>ended</c> carry and <c>Ask</c> and
    /// <c>Unsubscribe</c> take: the one the client chose in <c>Subscribe</c>, or else <see cref="Id"/>.</summary>
    string WireId { get; }

    /// <summary>The SignalR connection it belongs to.</summary>
    string ConnectionId { get; }

    /// <summary>What the client asked for.</summary>
    SubscribeRequest Request { get; }

    /// <summary>Credits held: how many more events the server may send now.</summary>
    long Credits { get; }

    /// <summary>Events handed to the connection whose write has not completed yet.</summary>
    int Buffered { get; }

    /// <summary>Its position in the log (a group member's is the group's acknowledged position).</summary>
    long Cursor { get; }

    /// <summary>Log positions between its position and the head.</summary>
    long Lag { get; }

    /// <summary>Events sent so far.</summary>
    long Delivered { get; }

    /// <summary>Log positions skipped by the overflow policy.</summary>
    long Dropped { get; }

    /// <summary>Why it ended, once it has.</summary>
    string? EndReason { get; }

    /// <summary>Completes when it has stopped and sent all it will send.</summary>
    Task Completion { get; }

    /// <summary>Starts sending. Called once, after the client has been answered.</summary>
    void Start();

    /// <summary>Grants <paramref name="n"/> (≥ 1) more credits.</summary>
    void Ask(long n);

    /// <summary>Ends it; with <paramref name="notify"/> the client is told with <c>ended</c>. The first reason wins.</summary>
    void End(string reason, bool notify);
}
