using Microsoft.Extensions.Logging;

namespace Hub.Server.Log.Sqlite;

public sealed partial class SqliteEventLog
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Event log opened at {Path}: head {Head}, first retained {First}")]
        public static partial void Opened(ILogger logger, string path, long head, long first);

        [LoggerMessage(EventId = 3002, Level = LogLevel.Error, Message = "Writing {Appends} appends ({Events} events) to the event log failed; they were refused")]
        public static partial void WriteFailed(ILogger logger, Exception exception, int appends, int events);

        [LoggerMessage(EventId = 3003, Level = LogLevel.Debug, Message = "Retention deleted {Count} events; the log now starts at {First}")]
        public static partial void Trimmed(ILogger logger, int count, long first);

        [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Retention pass failed; it will be tried again")]
        public static partial void TrimFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "Writing group positions failed; they will be written with the next change")]
        public static partial void GroupPositionsFailed(ILogger logger, Exception exception);
    }
}
