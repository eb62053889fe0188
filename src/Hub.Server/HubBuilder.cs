namespace Hub.Server;

/// <summary>What <c>AddHub</c> returns: the services it added to, for what is added to the hub after it (handlers).</summary>
public sealed class HubBuilder
{
    /// <summary>Wraps <paramref name="services"/>, to which <c>AddHub</c> has added the hub.</summary>
    public HubBuilder(IServiceCollection services) => Services = services;

    /// <summary>The application's services.</summary>
    public IServiceCollection Services { get; }
}
