namespace Hub.Server;

/// <summary>Which browser origins may call the hub from another site, bound from <c>"Hub:Cors"</c>.</summary>
public sealed class CorsSettings
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Hub:Cors";

    /// <summary>The policy's name.</summary>
    internal const string PolicyName = "Hub";

    /// <summary>
    /// Origins allowed to call the REST API and the SignalR hub from a browser, e.g. <c>https://app.example.com</c>.
    /// Not set (the default, as the hub has no credentials of its own yet) or <c>*</c>: every origin.
    /// </summary>
    /// <remarks>Not defaulted in the property: the configuration binder appends to an array it finds filled.</remarks>
    public string[]? AllowedOrigins { get; set; }
}
