namespace Hub.Server;

/// <summary>
/// What <see cref="HubServiceCollectionExtensions.AddHub"/> returns: the hub's services, to add to (in-process handlers,
/// an engine of one's own), as <c>AddSignalR()</c> returns an <c>ISignalRServerBuilder</c>.
/// </summary>
public sealed class HubBuilder
{
    internal HubBuilder(IServiceCollection services, IConfiguration configuration)
    {
        Services = services;
        Configuration = configuration;
    }

    /// <summary>The application's services, where the hub's are registered.</summary>
    public IServiceCollection Services { get; }

    /// <summary>The configuration the hub was added with (its <c>"Hub": {…}</c> section configures it).</summary>
    public IConfiguration Configuration { get; }
}
