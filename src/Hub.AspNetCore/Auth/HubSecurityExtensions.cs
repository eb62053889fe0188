using System.Security.Cryptography;
using System.Text;
using Hub.Server.OpenApi;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Hub.Server.Auth;

/// <summary>
/// Wires authentication (API keys and HMAC-SHA256 tokens behind one default scheme) and authorization (the
/// <see cref="HubPolicies"/>, answered with problem+json), from <c>"Hub:Auth"</c>.
/// </summary>
public static class HubSecurityExtensions
{
    /// <summary>What an API key's subject starts with (<c>key:NAME</c>); no token's <c>sub</c> may.</summary>
    internal const string ApiKeySubjectPrefix = "key:";

    /// <summary>The subjects no token may claim, because the hub gives them to others: an API key's (<c>key:NAME</c>) and
    /// the in-process publisher's (<see cref="Handlers.HubPublisher.Subject"/>); a token claiming one would share its
    /// idempotency keys, limits and logs.</summary>
    internal static readonly string[] ReservedSubjectPrefixes = [ApiKeySubjectPrefix, Handlers.HubPublisher.Subject];

    /// <summary>Adds the hub's authentication and authorization services.</summary>
    public static IServiceCollection AddHubSecurity(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AuthOptions>()
            .Bind(configuration.GetSection(AuthOptions.Section))
            .PostConfigure<IHostEnvironment>((o, environment) =>
                o.Mode ??= environment.IsDevelopment() || OpenApi.HubOpenApi.IsGeneratingDocument ? AuthMode.None : AuthMode.Required)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<TopicAccess>();
        services.AddHostedService<AuthModeAnnouncer>();

        services.AddAuthentication(HubAuthSchemes.Default)
            .AddPolicyScheme(HubAuthSchemes.Default, "API key or token", o => o.ForwardDefaultSelector = HubAuthSchemes.Select)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(HubAuthSchemes.ApiKey, displayName: "API key", configureOptions: null)
            .AddJwtBearer(HubAuthSchemes.Token);
        services.AddOptions<JwtBearerOptions>(HubAuthSchemes.Token).Configure<IOptions<AuthOptions>>((o, auth) => ConfigureTokens(o, auth.Value));
        services.AddOptions<AuthenticationOptions>().Configure<IOptions<AuthOptions>>((o, auth) =>
        {
            if (auth.Value.EffectiveMode == AuthMode.None)
            {
                // Nobody is authenticated (everyone is one anonymous subject, whatever credentials it sends), so no
                // request runs the schemes' handlers: with a default scheme, each would, and a hub connection's request
                // would hold them for as long as its WebSocket lives. An app's own endpoint that requires an
                // authenticated user is still challenged by the hub's scheme (401).
                o.DefaultScheme = null;
                o.DefaultChallengeScheme = HubAuthSchemes.Default;
                o.DefaultForbidScheme = HubAuthSchemes.Default;
            }
        });

        services.AddAuthorization();
        services.AddOptions<AuthorizationOptions>().Configure<IOptions<AuthOptions>>((o, auth) => HubPolicies.Add(o, auth.Value.EffectiveMode));
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        services.ConfigureSwaggerGen(o => AuthOpenApi.Configure(o));
        return services;
    }

    /// <summary>Authenticates and authorizes every request (after CORS, before the endpoints). With <c>Hub:Auth:Mode</c>
    /// <c>None</c> there is no default scheme (see <see cref="AddHubSecurity"/>), so authenticating runs no handler.</summary>
    public static IApplicationBuilder UseHubSecurity(this IApplicationBuilder app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    /// <summary>Whether <c>Hub:Auth:Mode</c> is <c>Required</c> (the options validated, as at start).</summary>
    internal static bool IsEnforced(IApplicationBuilder app) =>
        app.ApplicationServices.GetRequiredService<IOptions<AuthOptions>>().Value.EffectiveMode == AuthMode.Required;

    /// <summary>Maps <c>GET /api/info</c> (anyone may read it: the dashboard shows the auth mode from it).</summary>
    public static RouteGroupBuilder MapHubInfo(this RouteGroupBuilder api)
    {
        api.MapGet("/info", static (IOptions<AuthOptions> auth) => TypedResults.Ok(new HubInfo(auth.Value.EffectiveMode.ToString())))
            .WithName("GetInfo")
            .WithSummary("How the hub is set up")
            .WithDescription("Answers the authentication mode: `None` (anyone may publish, read and subscribe: development only) or `Required`. Needs no credentials.")
            .Answers<HubInfo>(StatusCodes.Status200OK, "The hub's authentication mode.")
            .AllowAnonymous();
        return api;
    }

    private static void ConfigureTokens(JwtBearerOptions o, AuthOptions auth)
    {
        o.MapInboundClaims = false;
        o.RequireHttpsMetadata = false; // no metadata is fetched: the key is configured
        var key = string.IsNullOrEmpty(auth.SigningKey)
            ? RandomNumberGenerator.GetBytes(64) // no key configured: no token can be valid
            : Encoding.UTF8.GetBytes(auth.SigningKey);
        o.TokenValidationParameters = new TokenValidationParameters
        {
            IssuerSigningKey = new SymmetricSecurityKey(key),
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = auth.ClockSkew,
            ValidateIssuer = !string.IsNullOrEmpty(auth.Issuer),
            ValidIssuer = auth.Issuer,
            ValidateAudience = !string.IsNullOrEmpty(auth.Audience),
            ValidAudience = auth.Audience,
            NameClaimType = HubClaims.Subject,
        };
        o.Events = new JwtBearerEvents
        {
            // SignalR's clients send the token as access_token on the hub paths (a browser cannot set a WebSocket's
            // headers); nowhere else is a token read from the query string, where it would end up in logs.
            OnMessageReceived = context =>
            {
                if (string.IsNullOrEmpty(context.Token) && context.Request.Path.StartsWithSegments("/hubs", StringComparison.OrdinalIgnoreCase)
                    && context.Request.Query.TryGetValue(HubAuthSchemes.AccessTokenParameter, out var token) && token.Count == 1)
                {
                    context.Token = token.ToString();
                }

                return Task.CompletedTask;
            },
            // Limits, logs and idempotency keys are per subject: a token that names none is not valid, and neither is one
            // that names an API key's subject (key:NAME) or the in-process publisher's, whose idempotency keys and limits
            // it would share.
            OnTokenValidated = context =>
            {
                var subject = context.Principal?.FindFirst(HubClaims.Subject)?.Value;
                if (string.IsNullOrWhiteSpace(subject))
                {
                    context.Fail("the token has no sub");
                }
                else if (Array.Find(ReservedSubjectPrefixes, prefix => subject.StartsWith(prefix, StringComparison.Ordinal)) is { } reserved)
                {
                    context.Fail($"the token's sub may not start with '{reserved}' (the hub's own subjects: API keys' and the in-process publisher's)");
                }

                return Task.CompletedTask;
            },
        };
    }
}
