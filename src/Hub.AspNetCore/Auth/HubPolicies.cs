using Microsoft.AspNetCore.Authorization;

namespace Hub.Server.Auth;

/// <summary>The authorization policies endpoints name. With <c>"Hub:Auth:Mode": "None"</c> both allow anyone.</summary>
public static class HubPolicies
{
    /// <summary>Any valid credential (API key or token); which topics it may use is checked per request.</summary>
    public const string Client = "hub:client";

    /// <summary>A credential holding the admin grant (<see cref="HubClaims.Admin"/>).</summary>
    public const string Admin = "hub:admin";

    internal static void Add(AuthorizationOptions options, AuthMode mode)
    {
        if (mode == AuthMode.None)
        {
            options.AddPolicy(Client, p => p.RequireAssertion(static _ => true));
            options.AddPolicy(Admin, p => p.RequireAssertion(static _ => true));
            return;
        }

        options.AddPolicy(Client, p => p.RequireAuthenticatedUser());
        options.AddPolicy(Admin, p => p.RequireAuthenticatedUser().RequireAssertion(static c => TopicGrants.From(c.User).IsAdmin));
    }
}
