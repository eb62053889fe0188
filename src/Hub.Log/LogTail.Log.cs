using Microsoft.Extensions.Logging;

namespace Hub.Log;

public sealed partial class LogTail
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "Reading events {From}..{Target} from the log's store failed; this node's subscribers wait for them until a read succeeds (tried every second)")]
        public static partial void CatchUpFailed(ILogger logger, Exception exception, long from, long target);

        [LoggerMessage(EventId = 3202, Level = LogLevel.Warning, Message = "This node fell behind the log's retention: events after {Head} were removed before it read them; it goes on from {First}")]
        public static partial void CatchUpTruncated(ILogger logger, long head, long first);
    }
}
