using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Hub.Server.Tests.Infrastructure;

/// <summary>
/// Credentials for hubs that require them: a signing key, API keys (configured by their SHA-256, as in production),
/// and tokens made with the same library the hub validates them with.
/// </summary>
public static class Credentials
{
    public const string SigningKey = "hub-tests-signing-key-0123456789-abcdefghijklmnop";

    /// <summary>Publishes to <c>orders.&gt;</c> only.</summary>
    public const string OrdersKey = "orders-publisher-key-7f3a9c";

    /// <summary>Publishes and subscribes to everything, and holds the admin grant.</summary>
    public const string AdminKey = "admin-key-41c2e8d0";

    public static string Sha256(string key) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>Settings for a hub with <c>Hub:Auth:Mode</c> Required, the signing key and the two keys.</summary>
    public static Dictionary<string, string?> RequiredSettings(IDictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Hub:Auth:Mode"] = "Required",
            ["Hub:Auth:SigningKey"] = SigningKey,
            ["Hub:Auth:ApiKeys:0:Name"] = "orders",
            ["Hub:Auth:ApiKeys:0:Sha256"] = Sha256(OrdersKey),
            ["Hub:Auth:ApiKeys:0:Publish:0"] = "orders.>",
            ["Hub:Auth:ApiKeys:1:Name"] = "admin",
            ["Hub:Auth:ApiKeys:1:Sha256"] = Sha256(AdminKey).ToLowerInvariant(),
            ["Hub:Auth:ApiKeys:1:Publish:0"] = ">",
            ["Hub:Auth:ApiKeys:1:Subscribe:0"] = ">",
            ["Hub:Auth:ApiKeys:1:Admin"] = "true",
        };
        foreach (var (key, value) in more ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>A token (HS256 unless told) for <paramref name="subject"/> with the given grants.</summary>
    public static string Token(string subject, string[]? subscribe = null, string[]? publish = null, bool admin = false,
        DateTime? expires = null, string signingKey = SigningKey, string? issuer = null, string? audience = null)
    {
        var claims = new Dictionary<string, object> { ["sub"] = subject };
        if (subscribe is not null)
        {
            claims["hub:sub"] = subscribe.ToList();
        }

        if (publish is not null)
        {
            claims["hub:pub"] = publish.ToList();
        }

        if (admin)
        {
            claims["hub:admin"] = true;
        }

        var until = expires ?? DateTime.UtcNow.AddMinutes(30);
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            IssuedAt = until.AddHours(-1),
            NotBefore = until.AddHours(-1),
            Expires = until,
            Issuer = issuer,
            Audience = audience,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(signingKey)), SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>An unsigned token (<c>alg: none</c>) with the given payload.</summary>
    public static string UnsignedToken(string payloadJson) =>
        Base64Url("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + Base64Url(payloadJson) + ".";

    public static string Base64Url(string text) => Base64UrlEncoder.Encode(text);

    /// <summary>A request message with <paramref name="credential"/> as a bearer value (a token or an API key).</summary>
    public static HttpRequestMessage Request(HttpMethod method, string path, string? credential, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (credential is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + credential);
        }

        return request;
    }
}
