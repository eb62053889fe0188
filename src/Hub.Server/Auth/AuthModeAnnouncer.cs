using Microsoft.Extensions.Options;

namespace Hub.Server.Auth;

/// <summary>Says at start, as a warning, that the hub asks for no credentials (<c>"Hub:Auth:Mode": "None"</c>).</summary>
internal sealed partial class AuthModeAnnouncer(IOptions<AuthOptions> options, ILogger<AuthModeAnnouncer> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (HubApplication.IsGeneratingOpenApiDocument)
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

    private static partial class Log
    {
        [LoggerMessage(EventId = 800, Level = LogLevel.Warning, Message = "Hub:Auth:Mode is None: anyone who can reach this hub may publish, read and subscribe to every topic and use the admin endpoints. For development only: set Hub:Auth:Mode to Required with Hub:Auth:SigningKey or Hub:Auth:ApiKeys.")]
        public static partial void NoAuthentication(ILogger logger);

        [LoggerMessage(EventId = 801, Level = LogLevel.Information, Message = "Hub:Auth:Mode is Required: tokens {TokensAccepted}, {ApiKeyCount} API keys")]
        public static partial void AuthenticationRequired(ILogger logger, bool tokensAccepted, int apiKeyCount);
    }
}
