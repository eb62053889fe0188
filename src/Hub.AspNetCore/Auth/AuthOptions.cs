namespace Hub.Server.Auth;

/// <summary>Who may publish and subscribe to what, bound from <c>"Hub:Auth"</c>.</summary>
public sealed class AuthOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Hub:Auth";

    internal const int MinSigningKeyBytes = 32;
    internal static readonly TimeSpan DefaultClockSkew = TimeSpan.FromSeconds(30);

    /// <summary>
    /// <see cref="AuthMode.None"/> or <see cref="AuthMode.Required"/>. When not set: <c>None</c> in the Development
    /// environment, <c>Required</c> everywhere else.
    /// </summary>
    public AuthMode? Mode { get; set; }

    /// <summary>
    /// The HMAC-SHA256 key that signs subscriber and publisher tokens (JWT, <c>alg: HS256</c>): its UTF-8 bytes, at least
    /// 32 of them. Not set: tokens are not accepted.
    /// </summary>
    public string? SigningKey { get; set; }

    /// <summary>When set, a token's <c>iss</c> must equal it.</summary>
    public string? Issuer { get; set; }

    /// <summary>When set, a token's <c>aud</c> must include it.</summary>
    public string? Audience { get; set; }

    /// <summary>How far a token's <c>exp</c> and <c>nbf</c> may be off the hub's clock. Default 30 seconds.</summary>
    public TimeSpan ClockSkew { get; set; } = DefaultClockSkew;

    /// <summary>The API keys publishers may send (<c>Authorization: Bearer KEY</c> or <c>X-Api-Key: KEY</c>), each with
    /// the topics it may publish to.</summary>
    public ApiKeyOptions[] ApiKeys { get; set; } = [];

    /// <summary>The mode in force (set once the environment's default is applied).</summary>
    public AuthMode EffectiveMode => Mode ?? AuthMode.Required;
}
