using System.Net;

namespace Hub.Client;

/// <summary>The hub refused a publish (nothing was appended): the problem+json answer's status and detail, which names
/// the field (<c>[1].topic: …</c>), and for 429 and 503 when to try again.</summary>
public sealed class HubPublishException(HttpStatusCode status, string? title, string? detail, TimeSpan? retryAfter)
    : Exception($"The hub answered {(int)status} {title}: {detail}")
{
    /// <summary>The HTTP status.</summary>
    public HttpStatusCode Status { get; } = status;

    /// <summary>The problem's title.</summary>
    public string? Title { get; } = title;

    /// <summary>The problem's detail, naming the field at fault.</summary>
    public string? Detail { get; } = detail;

    /// <summary>The answer's <c>Retry-After</c>, when it had one (429, 503).</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
