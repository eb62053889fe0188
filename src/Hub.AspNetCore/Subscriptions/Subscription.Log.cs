using Microsoft.Extensions.Logging;

namespace Hub.Server.Subscriptions;

public sealed partial class Subscription
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Subscription {SubscriptionId} on connection {ConnectionId} failed; it is ended and its client told ended {{reason: error}}")]
        public static partial void PumpFailed(ILogger logger, Exception exception, string subscriptionId, string connectionId);

        [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Subscription {SubscriptionId} missed sequences {From}..{To} ({Reason}); it gets {Outcome}")]
        public static partial void FellBehind(ILogger logger, string subscriptionId, long from, long to, string reason, string outcome);

        [LoggerMessage(EventId = 2003, Level = LogLevel.Debug, Message = "Subscription {SubscriptionId} on connection {ConnectionId}: its ended notice could not be sent")]
        public static partial void EndedNotSent(ILogger logger, Exception exception, string subscriptionId, string connectionId);
    }
}
