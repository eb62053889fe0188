using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Hub.Server.Auth;

/// <summary>
/// The OpenAPI document's security schemes (<c>bearer</c>: an HMAC-SHA256 JWT or an API key; <c>apiKey</c>: the
/// <c>X-Api-Key</c> header), and on each operation that needs credentials, the requirement of either.
/// </summary>
internal sealed class AuthOpenApi : IOperationFilter
{
    public const string Bearer = "bearer";
    public const string ApiKey = "apiKey";

    public static void Configure(SwaggerGenOptions options)
    {
        options.AddSecurityDefinition(Bearer, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "A token signed with HMAC-SHA256 (claims `sub`, `exp`, `hub:sub`, `hub:pub`, `hub:admin`), or an API key.",
        });
        options.AddSecurityDefinition(ApiKey, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = HubAuthSchemes.ApiKeyHeader,
            Description = "An API key (configured as its SHA-256 in `Hub:Auth:ApiKeys`).",
        });
        options.OperationFilter<AuthOpenApi>();
    }

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        if (metadata.OfType<IAllowAnonymous>().Any() || !metadata.OfType<IAuthorizeData>().Any())
        {
            return;
        }

        operation.Security ??= [];
        operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Bearer, context.Document)] = [] });
        operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKey, context.Document)] = [] });
    }
}
