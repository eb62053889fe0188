using Microsoft.Extensions.Logging;

namespace Hub.Server.Subscriptions;

public abstract partial class DeliveryStage
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "The {Kind} {SubscriptionId} on connection {ConnectionId} failed; it is ended and its client told ended {{reason: error}}")]
        public static partial void StageFailed(ILogger logger, Exception exception, string kind, string subscriptionId, string connectionId);

        [LoggerMessage(EventId = 2003, Level = LogLevel.Debug, Message = "The {Kind} {SubscriptionId} on connection {ConnectionId}: its ended notice could not be sent")]
        public static partial void EndedNotSent(ILogger logger, Exception exception, string kind, string subscriptionId, string connectionId);

        [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "The {Kind} {SubscriptionId} on connection {ConnectionId} cannot read the log now; it waits where it is and reads on when the log answers again")]
        public static partial void ReadWaiting(ILogger logger, Exception exception, string kind, string subscriptionId, string connectionId);
    }
}
