using System.ComponentModel.DataAnnotations;

namespace Hub.Server.Limits;

/// <summary>
/// Bounds on what one client may ask of the hub, bound from <c>"Hub:Limits"</c>. (Body, batch and event sizes are in
/// <c>"Hub:Publish"</c>, subscriptions per connection in <c>"Hub:Subscriptions"</c>; topics are at most 255 characters.)
/// </summary>
public sealed class LimitsOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Hub:Limits";

    internal const int DefaultMaxAsk = 1_000_000;
    internal const int DefaultMaxConnectionsPerSubject = 100;
    internal const int DefaultMaxHubMessageBytes = 64 * 1024;
    internal const int DefaultPublishPermits = 1000;
    internal const int DefaultPublishBurst = 2000;
    internal const int DefaultMaxReadEvents = 1000;
    internal const int DefaultMaxSubscribeTopics = 64;
    internal const int DefaultMaxSubscribeTypes = 64;

    /// <summary>The most credits a subscription may hold: <c>Subscribe</c>'s <c>maxDemand</c> (an automatic subscription's
    /// first grant), <c>Ask</c>'s <c>n</c>, and the credits held after an <c>Ask</c>; more fails the invocation naming the
    /// field. Default 1,000,000.</summary>
    [Range(1, int.MaxValue, ErrorMessage = "Hub:Limits:MaxAsk must be between 1 and 2147483647.")]
    public int MaxAsk { get; set; } = DefaultMaxAsk;

    /// <summary>The most hub connections open at once under one credential (a token's <c>sub</c>, an API key's name);
    /// the next one is closed with an error. Anonymous connections (no credentials required) are not counted. Default 100.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Hub:Limits:MaxConnectionsPerSubject must be between 1 and 1000000.")]
    public int MaxConnectionsPerSubject { get; set; } = DefaultMaxConnectionsPerSubject;

    /// <summary>The largest message a client may send over the hub (SignalR's <c>MaximumReceiveMessageSize</c>);
    /// a larger one closes the connection. Default 64 KiB.</summary>
    [Range(1024, 16 * 1024 * 1024, ErrorMessage = "Hub:Limits:MaxHubMessageBytes must be between 1024 and 16777216.")]
    public int MaxHubMessageBytes { get; set; } = DefaultMaxHubMessageBytes;

    /// <summary>Publish requests each credential earns per <see cref="PublishPeriod"/> (a token bucket per credential;
    /// past it, 429 with <c>Retry-After</c>). Default 1000.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Hub:Limits:PublishPermits must be between 1 and 1000000.")]
    public int PublishPermits { get; set; } = DefaultPublishPermits;

    /// <summary>The period over which <see cref="PublishPermits"/> are earned. Default one second.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00", ErrorMessage = "Hub:Limits:PublishPeriod must be between 00:00:00.001 and 1.00:00:00.")]
    public TimeSpan PublishPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The most publish requests a credential may make at once after a quiet spell (the bucket's size). Default 2000.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Hub:Limits:PublishBurst must be between 1 and 1000000.")]
    public int PublishBurst { get; set; } = DefaultPublishBurst;

    /// <summary>The most events one <c>GET /api/events</c> may ask for (its <c>limit</c>); more answers 400 naming
    /// <c>limit</c>. Default 1000.</summary>
    [Range(1, 100_000, ErrorMessage = "Hub:Limits:MaxReadEvents must be between 1 and 100000.")]
    public int MaxReadEvents { get; set; } = DefaultMaxReadEvents;

    /// <summary>The most topic patterns one <c>Subscribe</c> may ask for (its <c>topics</c>; each event delivered is matched
    /// against them); more fails the invocation naming <c>topics</c> and this setting. Default 64.</summary>
    [Range(1, 10_000, ErrorMessage = "Hub:Limits:MaxSubscribeTopics must be between 1 and 10000.")]
    public int MaxSubscribeTopics { get; set; } = DefaultMaxSubscribeTopics;

    /// <summary>The most event types one <c>Subscribe</c> may filter on (its <c>types</c>); more fails the invocation naming
    /// <c>types</c> and this setting. Default 64.</summary>
    [Range(1, 10_000, ErrorMessage = "Hub:Limits:MaxSubscribeTypes must be between 1 and 10000.")]
    public int MaxSubscribeTypes { get; set; } = DefaultMaxSubscribeTypes;
}
