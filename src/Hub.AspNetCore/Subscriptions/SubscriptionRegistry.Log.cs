using Microsoft.Extensions.Logging;

namespace Hub.Server.Subscriptions;

public sealed partial class SubscriptionRegistry
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "At shutdown, {Count} connections had not sent their ended {{reason: shutdown}} notices and closed within {Wait}; SignalR closes them without sending what is left (first ids: {ConnectionIds})")]
        public static partial void NotClosedAtShutdown(ILogger logger, int count, TimeSpan wait, string connectionIds);
    }
}
