using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Hub.Server.Limits;

/// <summary>Wires <see cref="LimitsOptions"/>: the connection count per credential, the hub's largest message and the
/// publish rate limiter.</summary>
public static class HubLimitsExtensions
{
    /// <summary>Adds the limits' services, configured from <c>"Hub:Limits"</c>.</summary>
    public static IServiceCollection AddHubLimits(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<LimitsOptions>().Bind(configuration.GetSection(LimitsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ConnectionLimiter>();
        services.AddOptions<HubOptions>().Configure<IOptions<LimitsOptions>>((hub, limits) => hub.MaximumReceiveMessageSize = limits.Value.MaxHubMessageBytes);
        services.AddRateLimiter(static _ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<LimitsOptions>>((o, limits) => PublishRateLimiting.Configure(o, limits.Value));
        return services;
    }

    /// <summary>Applies the rate limits (after authentication, so requests are counted per credential).</summary>
    public static IApplicationBuilder UseHubLimits(this IApplicationBuilder app) => app.UseRateLimiter();
}
