using Hub.Log;
using Hub.Server.Subscriptions;

namespace Hub.Server.Dashboard;

/// <summary>What the dashboard shows, pushed once a second over <c>/hubs/dashboard</c>.</summary>
/// <param name="Time">When it was taken.</param>
/// <param name="Head">The log's last sequence.</param>
/// <param name="FirstRetained">The oldest sequence the log still holds.</param>
/// <param name="Published">Events accepted by publish requests since start.</param>
/// <param name="Delivered">Events handed to subscribers since start (once per subscriber).</param>
/// <param name="Dropped">Log positions skipped for subscribers by their overflow policy since start.</param>
/// <param name="PublishedPerSecond">Published over the last interval, per second.</param>
/// <param name="DeliveredPerSecond">Delivered over the last interval, per second.</param>
/// <param name="Connections">Open SignalR connections on <c>/hubs/events</c>.</param>
/// <param name="SubscriptionCount">Live subscriptions.</param>
/// <param name="Subscriptions">The live subscriptions, the laggards first (at most <see cref="DashboardFeed.MaxRows"/>).</param>
/// <param name="Groups">The live groups, the laggards first (at most <see cref="DashboardFeed.MaxRows"/>).</param>
/// <param name="TopicCount">Topics seen.</param>
/// <param name="Topics">The topics most recently published to (at most <see cref="DashboardFeed.MaxRows"/>).</param>
public sealed record DashboardSnapshot(
    DateTimeOffset Time,
    long Head,
    long FirstRetained,
    long Published,
    long Delivered,
    long Dropped,
    double PublishedPerSecond,
    double DeliveredPerSecond,
    int Connections,
    int SubscriptionCount,
    IReadOnlyList<SubscriptionInfo> Subscriptions,
    IReadOnlyList<GroupInfo> Groups,
    int TopicCount,
    IReadOnlyList<TopicStats> Topics);

/// <summary>One point of the throughput chart.</summary>
/// <param name="Time">When it was taken.</param>
/// <param name="PublishedPerSecond">Published per second over the interval before it.</param>
/// <param name="DeliveredPerSecond">Delivered per second over the interval before it.</param>
public sealed record RatePoint(DateTimeOffset Time, double PublishedPerSecond, double DeliveredPerSecond);
