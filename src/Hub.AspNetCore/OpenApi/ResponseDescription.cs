namespace Hub.Server.OpenApi;

/// <summary>
/// Endpoint metadata: what one response of an operation means, in CONTRACT.md's words, for the OpenAPI document
/// (<see cref="ResponsesFilter"/> writes it). ASP.NET Core's own response metadata carries the status and schema.
/// </summary>
/// <param name="StatusCode">The HTTP status.</param>
/// <param name="Description">What the answer means for the caller.</param>
/// <param name="RetryAfter">The answer carries a <c>Retry-After</c> header (seconds).</param>
internal sealed record ResponseDescription(int StatusCode, string Description, bool RetryAfter = false);
