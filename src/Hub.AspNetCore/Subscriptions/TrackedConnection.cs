namespace Hub.Server.Subscriptions;

/// <summary>How the registry closes one SignalR connection of the events hub.</summary>
/// <param name="Abort">Closes it at once; its clients are told not to reconnect (the <c>disconnect</c> overflow policy).</param>
/// <param name="RequestClose">Ends it from the server side as a connection its client may reconnect, its transport
/// sending what was written to it before closing; null where the transport offers no such request (then
/// <paramref name="Closed"/> is never cancelled and is not waited on).</param>
/// <param name="Closed">Cancelled once the transport has finished: everything written was sent, and the connection closed.</param>
public sealed record TrackedConnection(Action Abort, Action? RequestClose = null, CancellationToken Closed = default);
