using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Hub.Server.Limits;

/// <summary>
/// The publish rate limit: one token bucket per credential (ASP.NET Core's rate limiter, partitioned by the
/// authenticated subject). Past it, <c>429</c> problem+json with <c>Retry-After</c>; nothing is appended. Requests
/// without credentials (<c>"Hub:Auth:Mode": "None"</c>) are not limited.
/// </summary>
internal static class PublishRateLimiting
{
    /// <summary>The policy name <c>POST /api/events</c> requires.</summary>
    public const string Policy = "hub:publish";

    public static void Configure(RateLimiterOptions options, LimitsOptions limits)
    {
        options.AddPolicy(Policy, context =>
        {
            var subject = context.User.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? name : null;
            return subject is null
                ? RateLimitPartition.GetNoLimiter("anonymous")
                : RateLimitPartition.GetTokenBucketLimiter(subject, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = limits.PublishBurst,
                    TokensPerPeriod = limits.PublishPermits,
                    ReplenishmentPeriod = limits.PublishPeriod,
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
        });
        options.OnRejected = async (rejected, _) =>
        {
            var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
                ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds))
                : Math.Max(1, (int)Math.Ceiling(limits.PublishPeriod.TotalSeconds));
            var context = rejected.HttpContext;
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            await TypedResults.Problem(
                detail: $"rate: '{context.User.Identity?.Name}' may publish {limits.PublishPermits} requests per {limits.PublishPeriod} in bursts of {limits.PublishBurst} (Hub:Limits:PublishPermits, PublishPeriod, PublishBurst); nothing was appended, try again after Retry-After seconds",
                statusCode: StatusCodes.Status429TooManyRequests,
                title: "Too many requests.",
                extensions: new Dictionary<string, object?> { ["field"] = "rate" }).ExecuteAsync(context).ConfigureAwait(false);
        };
    }
}
