namespace Hub.Server.Auth;

/// <summary>
/// The authentication schemes: <see cref="Default"/> chooses, per request, between the API-key scheme and the token
/// (JWT bearer) scheme by what the request carries.
/// </summary>
internal static class HubAuthSchemes
{
    /// <summary>The default scheme: forwards to <see cref="ApiKey"/> or <see cref="Token"/>.</summary>
    public const string Default = "Hub";

    /// <summary>API keys (<c>X-Api-Key</c>, or a bearer value that is not a JWT).</summary>
    public const string ApiKey = "ApiKey";

    /// <summary>HMAC-SHA256 JWTs (<c>Authorization: Bearer</c>, or <c>access_token</c> on the hub paths).</summary>
    public const string Token = "Token";

    /// <summary>The API-key header.</summary>
    public const string ApiKeyHeader = "X-Api-Key";

    /// <summary>The query parameter SignalR's clients use for a token (a browser cannot set headers on a WebSocket).</summary>
    public const string AccessTokenParameter = "access_token";

    /// <summary>Chooses the scheme for <paramref name="context"/>.</summary>
    public static string Select(HttpContext context)
    {
        if (context.Request.Headers.ContainsKey(ApiKeyHeader))
        {
            return ApiKey;
        }

        return BearerValue(context.Request) is { } value && !LooksLikeJwt(value) ? ApiKey : Token;
    }

    /// <summary>The value of an <c>Authorization: Bearer …</c> header, or <see langword="null"/>.</summary>
    public static string? BearerValue(HttpRequest request)
    {
        var header = request.Headers.Authorization;
        if (header.Count != 1)
        {
            return null;
        }

        var value = header.ToString();
        return value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? value[7..].Trim() : null;
    }

    /// <summary>A JWS in compact form has three parts separated by two dots; an API key has none.</summary>
    private static bool LooksLikeJwt(string value) => value.Count(c => c == '.') == 2;
}
