namespace Hub.Server.Auth;

/// <summary>One API key, as configured in <c>"Hub:Auth:ApiKeys"</c>: only its SHA-256 hash is ever stored.</summary>
public sealed class ApiKeyOptions
{
    /// <summary>A name for the key (its subject is <c>key:NAME</c>): shown in logs, and the rate limit's partition.</summary>
    public string Name { get; set; } = "";

    /// <summary>The SHA-256 of the key's UTF-8 bytes, 64 hexadecimal digits (<c>printf %s "$KEY" | sha256sum</c>).</summary>
    public string Sha256 { get; set; } = "";

    /// <summary>Topic patterns the key may publish to (e.g. <c>orders.&gt;</c>).</summary>
    public string[] Publish { get; set; } = [];

    /// <summary>Topic patterns the key may subscribe to and read; none by default.</summary>
    public string[] Subscribe { get; set; } = [];

    /// <summary>Whether the key may use the admin endpoints and the dashboard feed. Default false.</summary>
    public bool Admin { get; set; }
}
