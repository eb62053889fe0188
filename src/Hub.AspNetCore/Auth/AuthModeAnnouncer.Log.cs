namespace Hub.Server.Auth;

/// <summary>The announcer's log messages (event ids 800–809).</summary>
internal sealed partial class AuthModeAnnouncer
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 800, Level = LogLevel.Warning, Message = "Hub:Auth:Mode is None: anyone who can reach this hub may publish, read and subscribe to every topic and use the admin endpoints. For development only: set Hub:Auth:Mode to Required with Hub:Auth:SigningKey or Hub:Auth:ApiKeys.")]
        public static partial void NoAuthentication(ILogger logger);

        [LoggerMessage(EventId = 801, Level = LogLevel.Information, Message = "Hub:Auth:Mode is Required: tokens {TokensAccepted}, {ApiKeyCount} API keys")]
        public static partial void AuthenticationRequired(ILogger logger, bool tokensAccepted, int apiKeyCount);
    }
}
