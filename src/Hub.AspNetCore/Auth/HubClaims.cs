namespace Hub.Server.Auth;

/// <summary>
/// The claims a token carries (and an API key is given) that say what its holder may do. Pattern claims are
/// multi-valued: a JSON array of topic patterns in a token.
/// </summary>
public static class HubClaims
{
    /// <summary>Who holds the credential: a token's <c>sub</c>; <c>key:NAME</c> for an API key.</summary>
    public const string Subject = "sub";

    /// <summary>Topic patterns the holder may subscribe to and read (<c>GET /api/events</c>).</summary>
    public const string Subscribe = "hub:sub";

    /// <summary>Topic patterns the holder may publish to.</summary>
    public const string Publish = "hub:pub";

    /// <summary><c>true</c>: the holder may use the admin endpoints (<c>GET/DELETE /api/subscriptions</c>,
    /// <c>GET /api/groups</c>) and the dashboard feed (<c>/hubs/dashboard</c>).</summary>
    public const string Admin = "hub:admin";
}
