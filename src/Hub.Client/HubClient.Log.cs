using Microsoft.Extensions.Logging;

namespace Hub.Client;

public sealed partial class HubClient
{
    internal static partial class Log
    {
        [LoggerMessage(EventId = 9001, Level = LogLevel.Information, Message = "Hub connection lost ({Error}); reconnecting")]
        public static partial void Reconnecting(ILogger logger, string? error);

        [LoggerMessage(EventId = 9002, Level = LogLevel.Information, Message = "Hub connection back as {ConnectionId}; resuming the subscriptions")]
        public static partial void Reconnected(ILogger logger, string? connectionId);

        [LoggerMessage(EventId = 9003, Level = LogLevel.Warning, Message = "Hub connection closed ({Error}); starting it again with backoff")]
        public static partial void Closed(ILogger logger, string? error);

        [LoggerMessage(EventId = 9004, Level = LogLevel.Information, Message = "Starting the hub connection again failed (attempt {Attempt}: {Error})")]
        public static partial void RestartFailed(ILogger logger, long attempt, string error);

        [LoggerMessage(EventId = 9005, Level = LogLevel.Warning, Message = "The hub refused Ask({SubscriptionId}, {Credits}): {Message}")]
        public static partial void AskRefused(ILogger logger, string subscriptionId, long credits, string message);

        [LoggerMessage(EventId = 9006, Level = LogLevel.Debug, Message = "Ask({SubscriptionId}, {Credits}) not sent ({Error}); the resume asks afresh")]
        public static partial void AskNotSent(ILogger logger, string subscriptionId, long credits, string error);

        [LoggerMessage(EventId = 9007, Level = LogLevel.Information, Message = "Subscribe interrupted ({Error}); the next connection subscribes again")]
        public static partial void SubscribeInterrupted(ILogger logger, string error);

        [LoggerMessage(EventId = 9008, Level = LogLevel.Warning, Message = "The hub refused the subscription to {Topics}: {Message}")]
        public static partial void SubscriptionRefused(ILogger logger, string topics, string message);

        [LoggerMessage(EventId = 9009, Level = LogLevel.Warning, Message = "The hub's log was reset; the subscription to {Topics} starts again from the new log's start ({Message})")]
        public static partial void SubscriptionReset(ILogger logger, string topics, string message);

        [LoggerMessage(EventId = 9010, Level = LogLevel.Error, Message = "A subscription handler failed on a {Kind} (sequence {Sequence}); the stream goes on")]
        public static partial void HandlerFailed(ILogger logger, Exception exception, string kind, long? sequence);

        [LoggerMessage(EventId = 9011, Level = LogLevel.Debug, Message = "Unsubscribe({SubscriptionId}) not sent ({Error}); the hub forgets it with the connection")]
        public static partial void UnsubscribeNotSent(ILogger logger, string subscriptionId, string error);
    }
}
