using Hub.Server.Groups;
using Hub.Log;
using Hub.Server.Subscriptions;
using Hub.Stages.Dispatchers;
using Hub.Stages.Subscriptions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Hub.Server.Api;

/// <summary><c>GET /api/topics</c>, <c>GET /api/subscriptions</c>, <c>DELETE /api/subscriptions/{id}</c>.</summary>
internal static class SubscriptionsEndpoints
{
    public static Ok<TopicInfo[]> ListTopics(IEventLog log, HttpContext context, Auth.TopicAccess access)
    {
        var grants = access.For(context.User);
        return TypedResults.Ok(log.GetTopics().Where(t => grants.MaySee(t.Topic)).Select(t => new TopicInfo(t.Topic, t.Count, t.LastSequence)).ToArray());
    }

    // The live subscriptions, the laggards first; every figure is read from the subscription's stage. (Not an XML doc:
    // it would replace the OpenAPI summary set where the endpoint is mapped.)
    public static Ok<SubscriptionInfo[]> ListSubscriptions(SubscriptionRegistry registry) => TypedResults.Ok(DescribeAll(registry));

    /// <summary>Every live subscription, the laggards first.</summary>
    internal static SubscriptionInfo[] DescribeAll(SubscriptionRegistry registry) => registry.All
        .Select(Describe)
        .OrderByDescending(s => s.Lag)
        .ThenBy(s => s.Id, StringComparer.Ordinal)
        .ToArray();

    /// <param name="id">The subscription's id in the hub, as <c>GET /api/subscriptions</c> lists it (what <c>Subscribe</c> answered, unless the client chose its id).</param>
    /// <param name="registry">The live subscriptions.</param>
    public static Results<NoContent, ProblemHttpResult> Delete(string id, SubscriptionRegistry registry) =>
        registry.Remove(id, "deleted", notify: true)
            ? TypedResults.NoContent()
            : Problems.NotFound($"id: no live subscription '{Topics.TopicName.Shorten(id)}'");

    // The live groups the caller may read all the topics of (every group for the admin grant), the laggards first.
    public static Ok<GroupInfo[]> ListGroups(SubscriptionRegistry registry, HttpContext context, Auth.TopicAccess access)
    {
        var grants = access.For(context.User);
        return TypedResults.Ok(DescribeGroups(registry, g => grants.IsAdmin || g.Template.Patterns.All(grants.MaySubscribe)));
    }

    /// <summary>Every live group (or those <paramref name="visible"/> selects), the laggards first.</summary>
    internal static GroupInfo[] DescribeGroups(SubscriptionRegistry registry, Func<Group, bool>? visible = null) => registry.Groups
        .Where(g => visible is null || visible(g))
        .Select(g =>
        {
            var state = g.Describe();
            return new GroupInfo(g.Name, g.Template.Topics, g.Template.Types, DispatchName(g.Mode), state.Members, g.Position, g.Cursor, g.Lag, state.Queued, state.InFlight);
        })
        .OrderByDescending(g => g.Lag)
        .ThenBy(g => g.Name, StringComparer.Ordinal)
        .ToArray();

    private static string DispatchName(GroupDispatchMode mode) => mode == GroupDispatchMode.Partition ? "partition" : "demand";

    internal static SubscriptionInfo Describe(ISubscription s) => new(
        s.Id,
        s.WireId,
        s.ConnectionId,
        s.Request.Topics,
        s.Request.Types,
        Group: (s as GroupMember)?.GroupName,
        Dispatch: s is GroupMember member ? DispatchName(member.Dispatch) : "broadcast",
        Demand: s.Request.Demand == DemandMode.Automatic ? "auto" : "manual",
        Overflow: s.Request.Overflow == OverflowPolicy.DropOldest ? "dropOldest" : "disconnect",
        s.Request.MaxDemand,
        s.Request.MinDemand,
        s.Credits,
        s.Buffered,
        s.Cursor,
        s.Lag,
        s.Delivered,
        s.Dropped,
        InFlight: (s as GroupMember)?.InFlight ?? 0);
}
