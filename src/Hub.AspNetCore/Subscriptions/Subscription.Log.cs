using Microsoft.Extensions.Logging;

namespace Hub.Server.Subscriptions;

public sealed partial class Subscription
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Subscription {SubscriptionId} missed sequences {From}..{To} ({Reason}); it gets {Outcome}")]
        public static partial void FellBehind(ILogger logger, string subscriptionId, long from, long to, string reason, string outcome);
    }
}
