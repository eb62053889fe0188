namespace Hub.Server.Auth;

/// <summary>What <c>GET /api/info</c> answers: how the hub is set up, for pages and clients.</summary>
/// <param name="AuthMode"><c>None</c> (anyone may do anything: development only) or <c>Required</c>.</param>
public sealed record HubInfo(string AuthMode);
