using Hub.Log;
using Hub.Server.Subscriptions;
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

    // The live subscriptions, the laggards first, from the delivery layer's snapshot (every figure read from the stage
    // itself). (Not an XML doc: it would replace the OpenAPI summary set where the endpoint is mapped.)
    public static Ok<IReadOnlyList<SubscriptionInfo>> ListSubscriptions(SubscriptionRegistry registry) => TypedResults.Ok(registry.Snapshot().Subscriptions);

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
        return TypedResults.Ok(registry.DescribeGroups(g => grants.IsAdmin || g.Template.Patterns.All(grants.MaySubscribe)));
    }
}
