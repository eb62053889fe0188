using Microsoft.Extensions.Logging;

namespace Hub.Log.Postgres;

public sealed partial class PostgresEventLog
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 3301, Level = LogLevel.Information, Message = "Event log opened in PostgreSQL {Database}: head {Head}, first retained {First}, node {Node}")]
        public static partial void Opened(ILogger logger, string database, long head, long first, string node);

        [LoggerMessage(EventId = 3302, Level = LogLevel.Error, Message = "Writing {Appends} appends ({Events} events) to the event log in PostgreSQL {Database} failed; they were refused. Publishes are refused (503) and /health/ready fails until a write succeeds again (tried every second)")]
        public static partial void WriteFailed(ILogger logger, Exception exception, int appends, int events, string database);

        [LoggerMessage(EventId = 3303, Level = LogLevel.Debug, Message = "The event log is still unwritable: {Appends} appends ({Events} events) refused ({Error})")]
        public static partial void StillUnwritable(ILogger logger, int appends, int events, string error);

        [LoggerMessage(EventId = 3304, Level = LogLevel.Debug, Message = "The event log is still unwritable: the probe write failed ({Error})")]
        public static partial void ProbeFailed(ILogger logger, string error);

        [LoggerMessage(EventId = 3305, Level = LogLevel.Information, Message = "The event log in PostgreSQL {Database} takes writes again after {Seconds:0.0} s; {Refused} appends were refused meanwhile")]
        public static partial void Recovered(ILogger logger, string database, double seconds, int refused);

        [LoggerMessage(EventId = 3306, Level = LogLevel.Critical, Message = "The event log in PostgreSQL {Database} cannot be written until the hub restarts: {Reason}. Every publish is refused (503); /health/live and /health/ready fail")]
        public static partial void Failed(ILogger logger, Exception? exception, string database, string reason);

        [LoggerMessage(EventId = 3307, Level = LogLevel.Warning, Message = "Listening for other nodes' appends in PostgreSQL {Database} failed; connecting again in {RetryMs} ms (meanwhile this node delivers only its own appends)")]
        public static partial void ListenFailed(ILogger logger, Exception exception, string database, double retryMs);

        [LoggerMessage(EventId = 3308, Level = LogLevel.Information, Message = "Listening for other nodes' appends in PostgreSQL {Database} again")]
        public static partial void ListeningAgain(ILogger logger, string database);

        [LoggerMessage(EventId = 3309, Level = LogLevel.Warning, Message = "A notification on the log's channel that is not 'head node' was ignored: '{Payload}'")]
        public static partial void StrangeNotification(ILogger logger, string payload);

        [LoggerMessage(EventId = 3310, Level = LogLevel.Debug, Message = "Retention deleted {Count} events; the log now starts at {First}")]
        public static partial void Trimmed(ILogger logger, int count, long first);

        [LoggerMessage(EventId = 3311, Level = LogLevel.Warning, Message = "Retention pass failed; it will be tried again")]
        public static partial void TrimFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 3312, Level = LogLevel.Debug, Message = "Removed the positions of {Count} groups gone longer than the retention's MaxAge")]
        public static partial void GroupPositionsExpired(ILogger logger, int count);

        [LoggerMessage(EventId = 3313, Level = LogLevel.Warning, Message = "Writing group positions failed; they will be written with the next change")]
        public static partial void GroupPositionsFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 3314, Level = LogLevel.Warning, Message = "{Count} publish ids and idempotency answers were forgotten before their dedup window ({Window}) ended: more than Hub:Log:MaxDedupEntries ({Max}) are kept")]
        public static partial void ForgottenEarly(ILogger logger, long count, int max, TimeSpan window);
    }
}
