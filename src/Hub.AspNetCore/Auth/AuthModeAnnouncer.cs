using Microsoft.Extensions.Options;

namespace Hub.Server.Auth;

/// <summary>Says at start, as a warning, that the hub asks for no credentials (<c>"Hub:Auth:Mode": "None"</c>).</summary>
internal sealed partial class AuthModeAnnouncer(IOptions<AuthOptions> options, ILogger<AuthModeAnnouncer> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (OpenApi.HubOpenApi.IsGeneratingDocument)
        {
            return Task.CompletedTask; // the build writing the OpenAPI document: no one to warn
        }

        if (options.Value.EffectiveMode == AuthMode.None)
        {
            Log.NoAuthentication(logger);
        }
        else
        {
            Log.AuthenticationRequired(logger, !string.IsNullOrEmpty(options.Value.SigningKey), options.Value.ApiKeys.Length);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
