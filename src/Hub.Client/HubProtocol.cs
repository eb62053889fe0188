namespace Hub.Client;

/// <summary>The SignalR hub protocol a <see cref="HubClient"/> speaks. Both carry the same fields.</summary>
public enum HubProtocol
{
    /// <summary>SignalR's JSON hub protocol (the default).</summary>
    Json,

    /// <summary>SignalR's MessagePack hub protocol: smaller frames, the same envelopes.</summary>
    MessagePack,
}
