namespace Hub.Server.Subscriptions;

/// <summary>
/// The live stages at one moment, taken by the delivery layer (<see cref="SubscriptionRegistry.Snapshot()"/>) from the
/// stages' own figures: the one source of <c>GET /api/subscriptions</c>, the dashboard's feed and the <c>Hub</c> meter's
/// gauges, so the three always agree.
/// </summary>
/// <param name="Connections">Open SignalR connections on the events hub.</param>
/// <param name="Subscriptions">Every live stage, the laggards first (then by id).</param>
/// <param name="Groups">Every live group, the laggards first (then by name).</param>
public sealed record DeliverySnapshot(int Connections, IReadOnlyList<SubscriptionInfo> Subscriptions, IReadOnlyList<GroupInfo> Groups);
