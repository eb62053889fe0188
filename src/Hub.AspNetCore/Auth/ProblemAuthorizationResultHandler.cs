using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.IdentityModel.Tokens;

namespace Hub.Server.Auth;

/// <summary>
/// Answers a refused request with problem+json: 401 (with <c>WWW-Authenticate: Bearer</c>) when credentials are
/// missing or not valid, 403 when they are valid but lack the grant. Why a credential was refused is said in general
/// terms (expired, or not valid), never with the validator's details.
/// </summary>
internal sealed class ProblemAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult) =>
        authorizeResult.Challenged || authorizeResult.Forbidden ? RefuseAsync(context, authorizeResult)
            // Not awaited here: a request let through (a hub connection, for as long as its WebSocket lives) holds no
            // state machine of this handler's (nor of the default handler's, which awaits next).
            : authorizeResult.Succeeded ? next(context)
            : _default.HandleAsync(next, context, policy, authorizeResult);

    private static async Task RefuseAsync(HttpContext context, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Challenged)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            // The authentication middleware keeps only a success; the handlers cache their result, so this costs nothing.
            var failure = (await context.AuthenticateAsync(HubAuthSchemes.Default).ConfigureAwait(false)).Failure;
            var detail = failure switch
            {
                null => "required: an API key (Authorization: Bearer KEY, or X-Api-Key: KEY) or a signed token (Authorization: Bearer TOKEN, or access_token on /hubs/…)",
                SecurityTokenExpiredException => "the token has expired",
                _ => "the API key or token is not valid",
            };
            await AuthProblems.Unauthorized(detail).ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        await AuthProblems.Forbidden(AuthProblems.CredentialsField, $"the credentials do not hold the admin grant ({HubClaims.Admin})").ExecuteAsync(context).ConfigureAwait(false);
    }
}
