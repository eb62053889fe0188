using System.Security.Claims;
using Microsoft.Extensions.Options;

namespace Hub.Server.Auth;

/// <summary>Gives each caller its <see cref="TopicGrants"/>: read from its claims when credentials are required,
/// <see cref="TopicGrants.Everything"/> otherwise.</summary>
internal sealed class TopicAccess(IOptions<AuthOptions> options)
{
    /// <summary>Whether grants are checked (<c>"Hub:Auth:Mode": "Required"</c>).</summary>
    public bool Enforced { get; } = options.Value.EffectiveMode == AuthMode.Required;

    /// <summary>The grants of <paramref name="user"/>.</summary>
    public TopicGrants For(ClaimsPrincipal? user) => Enforced ? TopicGrants.From(user ?? new ClaimsPrincipal()) : TopicGrants.Everything;

    /// <summary>
    /// Who <paramref name="user"/> is, for what is scoped to a credential (its idempotency keys): its <c>sub</c>
    /// (<c>key:NAME</c> for an API key) when credentials are required; one anonymous subject for everyone when not.
    /// </summary>
    public string SubjectOf(ClaimsPrincipal? user) =>
        Enforced && user?.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? name : Log.IdempotencyKey.Anonymous;
}
