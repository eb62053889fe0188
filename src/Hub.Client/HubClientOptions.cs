using Microsoft.AspNetCore.Http.Connections.Client;
using Microsoft.Extensions.Logging;

namespace Hub.Client;

/// <summary>How a <see cref="HubClient"/> connects.</summary>
public sealed class HubClientOptions
{
    /// <summary>The default <see cref="HubPath"/>.</summary>
    public const string DefaultHubPath = "hubs/events";

    internal static readonly TimeSpan DefaultReconnectInitialDelay = TimeSpan.FromMilliseconds(250);
    internal static readonly TimeSpan DefaultReconnectMaxDelay = TimeSpan.FromSeconds(10);

    /// <summary>Gives the access token (a JWT or an API key) for the hub and the REST API; called for each connection
    /// and each publish. Null: no credentials (a hub in development mode).</summary>
    public Func<Task<string?>>? AccessTokenProvider { get; set; }

    /// <summary>Headers sent with the connection and every REST call, e.g. <c>X-Api-Key</c>.</summary>
    public IDictionary<string, string> Headers { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>JSON (the default) or MessagePack.</summary>
    public HubProtocol Protocol { get; set; } = HubProtocol.Json;

    /// <summary>The first delay before reconnecting; it doubles at each failed attempt, with jitter. Default 250 ms.</summary>
    public TimeSpan ReconnectInitialDelay { get; set; } = DefaultReconnectInitialDelay;

    /// <summary>The longest delay between reconnect attempts. Default 10 s.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = DefaultReconnectMaxDelay;

    /// <summary>The hub's path under the address. Default <c>hubs/events</c>.</summary>
    public string HubPath { get; set; } = DefaultHubPath;

    /// <summary>Further settings of SignalR's connection (transports, <c>SkipNegotiation</c>, a message handler).</summary>
    public Action<HttpConnectionOptions>? ConfigureConnection { get; set; }

    /// <summary>The client for REST calls (publishing); null: one made and owned by the <see cref="HubClient"/>.</summary>
    public HttpClient? HttpClient { get; set; }

    /// <summary>Where the client logs (failed asks, handler errors, reconnects); null: nowhere.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    internal void Validate()
    {
        if (ReconnectInitialDelay <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ReconnectInitialDelay), ReconnectInitialDelay, "ReconnectInitialDelay must be positive.");
        }

        if (ReconnectMaxDelay < ReconnectInitialDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(ReconnectMaxDelay), ReconnectMaxDelay, "ReconnectMaxDelay must be at least ReconnectInitialDelay.");
        }

        if (string.IsNullOrWhiteSpace(HubPath))
        {
            throw new ArgumentException("HubPath must name the hub's path, such as \"hubs/events\".", nameof(HubPath));
        }
    }
}
