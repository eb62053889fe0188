namespace Hub.Client.Tests.Infrastructure;

/// <summary>Client settings for tests: reconnects come quickly (these tests break connections on purpose).</summary>
public static class ClientOptions
{
    public static HubClientOptions Fast(HubProtocol protocol = HubProtocol.Json) => new()
    {
        Protocol = protocol,
        ReconnectInitialDelay = TimeSpan.FromMilliseconds(50),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(400),
    };
}
