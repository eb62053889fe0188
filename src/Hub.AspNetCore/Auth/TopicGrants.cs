using System.Security.Claims;
using Hub.Server.Topics;

namespace Hub.Server.Auth;

/// <summary>
/// What one caller may do, read from its claims (<see cref="HubClaims"/>): the patterns it may publish to and subscribe
/// to, and whether it holds the admin grant. <see cref="Everything"/> when the hub asks for no credentials.
/// </summary>
internal sealed class TopicGrants
{
    private TopicGrants(TopicPattern[] publish, TopicPattern[] subscribe, bool admin, bool unrestricted)
    {
        Publish = publish;
        Subscribe = subscribe;
        IsAdmin = admin;
        Unrestricted = unrestricted;
    }

    /// <summary>Everything is allowed (<c>"Hub:Auth:Mode": "None"</c>).</summary>
    public static TopicGrants Everything { get; } = new([], [], admin: true, unrestricted: true);

    /// <summary>Patterns the caller may publish to.</summary>
    public IReadOnlyList<TopicPattern> Publish { get; }

    /// <summary>Patterns the caller may subscribe to and read.</summary>
    public IReadOnlyList<TopicPattern> Subscribe { get; }

    /// <summary>Whether the caller may use the admin endpoints and the dashboard feed.</summary>
    public bool IsAdmin { get; }

    /// <summary>Whether no check applies.</summary>
    public bool Unrestricted { get; }

    /// <summary>Reads the grants of an authenticated <paramref name="user"/> (none for an anonymous one); claims that are
    /// not valid patterns grant nothing.</summary>
    public static TopicGrants From(ClaimsPrincipal user)
    {
        if (user.Identity?.IsAuthenticated != true)
        {
            return new TopicGrants([], [], admin: false, unrestricted: false);
        }

        return new TopicGrants(
            Patterns(user, HubClaims.Publish),
            Patterns(user, HubClaims.Subscribe),
            user.FindAll(HubClaims.Admin).Any(c => string.Equals(c.Value, "true", StringComparison.OrdinalIgnoreCase)),
            unrestricted: false);
    }

    /// <summary>Whether the caller may publish to <paramref name="topic"/> (a valid topic).</summary>
    public bool MayPublish(string topic)
    {
        if (Unrestricted)
        {
            return true;
        }

        foreach (var grant in Publish)
        {
            if (grant.Matches(topic))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether some subscribe grant covers every topic <paramref name="requested"/> matches.</summary>
    public bool MaySubscribe(TopicPattern requested)
    {
        if (Unrestricted)
        {
            return true;
        }

        foreach (var grant in Subscribe)
        {
            if (TopicPattern.Covers(grant, requested))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the caller may learn that <paramref name="topic"/> exists (it may publish or subscribe to it).</summary>
    public bool MaySee(string topic) => Unrestricted || IsAdmin || MayPublish(topic) || Subscribe.Any(g => g.Matches(topic));

    private static TopicPattern[] Patterns(ClaimsPrincipal user, string type) =>
        user.FindAll(type).Select(c => TopicPattern.TryParse(c.Value, out _)).OfType<TopicPattern>().ToArray();
}
