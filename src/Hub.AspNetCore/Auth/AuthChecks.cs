using Hub.Log;
using Hub.Server.Topics;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Hub.Server.Auth;

/// <summary>The per-topic checks of the REST endpoints, answering 403 problem+json naming the field and the topic.</summary>
internal static class AuthChecks
{
    /// <summary>A 403 for the first event of <paramref name="drafts"/> whose topic <paramref name="grants"/> may not
    /// publish to, or <see langword="null"/> when all may be published (then the request appends; else nothing).</summary>
    public static ProblemHttpResult? FirstUnpublishable(TopicGrants grants, IReadOnlyList<EventDraft> drafts)
    {
        for (var i = 0; i < drafts.Count; i++)
        {
            if (!grants.MayPublish(drafts[i].Topic))
            {
                var field = drafts.Count == 1 ? "topic" : $"[{i}].topic";
                return AuthProblems.Forbidden(field, $"the credentials may not publish to '{TopicName.Shorten(drafts[i].Topic)}' (no {HubClaims.Publish} grant matches it); nothing was appended");
            }
        }

        return null;
    }

    /// <summary>A 403 for a pattern no subscribe grant covers.</summary>
    public static ProblemHttpResult NotCovered(string field, string pattern) =>
        AuthProblems.Forbidden(field, NotCoveredMessage(pattern));

    /// <summary>Why a pattern is refused (also the hub's message).</summary>
    public static string NotCoveredMessage(string pattern) =>
        $"the credentials may not subscribe to '{TopicName.Shorten(pattern)}': no {HubClaims.Subscribe} grant covers every topic it matches (a pattern broader than the grant is refused, not narrowed)";
}
