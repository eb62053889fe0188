using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Hub.Server.Handlers;

/// <summary><c>AddHub(…).AddHandler&lt;THandler&gt;(name, …)</c>: in-process handlers of the hub's events.</summary>
public static class HubBuilderHandlerExtensions
{
    /// <summary>
    /// Adds <typeparamref name="THandler"/> as the handler <paramref name="name"/>: its own stage with its own demand
    /// window and its own durable position in the log's store, started with the application. Its settings are
    /// <paramref name="configure"/>'s, then the configuration's <c>"Hub:Handlers:NAME"</c>, validated at start.
    /// <typeparamref name="THandler"/> is resolved from a new scope for each batch (registered scoped unless it already is).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not 1 to 128 characters of <c>[A-Za-z0-9_-]</c>, or
    /// another handler has it.</exception>
    public static HubBuilder AddHandler<THandler>(this HubBuilder hub, string name, Action<HandlerOptions>? configure = null)
        where THandler : class, IEventHandler
    {
        ArgumentNullException.ThrowIfNull(hub);
        if (!HandlerName.IsValid(name))
        {
            throw new ArgumentException($"Handler name '{name}' is not valid: a handler's name is 1 to {HandlerName.MaxLength} characters of [A-Za-z0-9_-] (one topic segment: its dead letters go to hub.deadletter.NAME).", nameof(name));
        }

        if (hub.Services.Any(d => d.ServiceType == typeof(HandlerRegistration) && d.ImplementationInstance is HandlerRegistration r && r.Name == name))
        {
            throw new ArgumentException($"Handler name '{name}' is taken: another handler was added with it (each handler has its own position, kept under its name).", nameof(name));
        }

        hub.Services.AddSingleton(new HandlerRegistration(name, typeof(THandler)));
        hub.Services.TryAddScoped<THandler>();
        var options = hub.Services.AddOptions<HandlerOptions>(name);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        var section = hub.Configuration.GetSection($"{HandlerOptions.Section}:{name}");
        options.Configure(o => section.Bind(o)).ValidateOnStart();
        return hub;
    }

    /// <summary>What every hub has, handlers or not: the in-process publisher and the host of the handlers' stages.</summary>
    internal static IServiceCollection AddHubHandlers(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HandlerOptions>, HandlerOptionsValidator>());
        services.AddSingleton<IHubPublisher, HubPublisher>();
        services.AddSingleton<HandlerHost>();
        services.AddHostedService(static sp => sp.GetRequiredService<HandlerHost>());
        return services;
    }
}
