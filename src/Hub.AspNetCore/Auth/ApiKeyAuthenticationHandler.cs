using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Hub.Server.Auth;

/// <summary>
/// The API-key scheme: a key sent as <c>X-Api-Key: KEY</c> or <c>Authorization: Bearer KEY</c> is looked up by its
/// SHA-256 in <see cref="ApiKeyStore"/>; a match becomes a principal whose subject is <c>key:NAME</c> and whose claims
/// are the key's grants (<see cref="HubClaims"/>).
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyStore store)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? presented = null;
        if (Request.Headers.TryGetValue(HubAuthSchemes.ApiKeyHeader, out var values))
        {
            if (values.Count != 1)
            {
                return Task.FromResult(AuthenticateResult.Fail("X-Api-Key: send one key"));
            }

            presented = values.ToString();
        }
        else if (HubAuthSchemes.BearerValue(Request) is { } bearer)
        {
            presented = bearer;
        }

        if (presented is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (store.Find(presented.Trim()) is not { } key)
        {
            return Task.FromResult(AuthenticateResult.Fail("unknown API key"));
        }

        var claims = new List<Claim> { new(HubClaims.Subject, HubSecurityExtensions.ApiKeySubjectPrefix + key.Name) };
        claims.AddRange(key.Publish.Select(p => new Claim(HubClaims.Publish, p)));
        claims.AddRange(key.Subscribe.Select(p => new Claim(HubClaims.Subscribe, p)));
        if (key.Admin)
        {
            claims.Add(new Claim(HubClaims.Admin, "true"));
        }

        var identity = new ClaimsIdentity(claims, Scheme.Name, HubClaims.Subject, roleType: null);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }
}
