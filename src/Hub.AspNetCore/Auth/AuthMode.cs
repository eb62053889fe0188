namespace Hub.Server.Auth;

/// <summary>Whether the hub asks for credentials (<c>"Hub:Auth:Mode"</c>).</summary>
public enum AuthMode
{
    /// <summary>
    /// No credentials: anyone who reaches the hub may publish, read, subscribe and use the admin endpoints. The default
    /// only in the Development environment; the hub logs a warning at start and the dashboard shows a banner.
    /// </summary>
    None,

    /// <summary>Every API call and hub connection needs an API key or a signed token, and is allowed only the topics
    /// its grants cover. The default everywhere but Development.</summary>
    Required,
}
