using Microsoft.Extensions.Logging;

namespace Hub.Log;

internal sealed partial class Deduplicator
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Dedup memory is full: {Count} publish ids and idempotency answers were forgotten before their window of {Window} ended (Hub:Log:MaxDedupEntries is {Max}); a retry of those publishes would append again")]
        public static partial void ForgottenEarly(ILogger logger, long count, int max, TimeSpan window);
    }
}
