using Microsoft.Extensions.Logging;

namespace Hub.Log.Sqlite;

public sealed partial class SqliteEventLog
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Event log opened at {Path}: head {Head}, first retained {First}")]
        public static partial void Opened(ILogger logger, string path, long head, long first);

        [LoggerMessage(EventId = 3002, Level = LogLevel.Error, Message = "Writing {Appends} appends ({Events} events) to the event log at {Path} failed; they were refused. Publishes are refused (503) and /health/ready fails until a write succeeds again (tried every second)")]
        public static partial void WriteFailed(ILogger logger, Exception exception, int appends, int events, string path);

        [LoggerMessage(EventId = 3003, Level = LogLevel.Debug, Message = "Retention deleted {Count} events; the log now starts at {First}")]
        public static partial void Trimmed(ILogger logger, int count, long first);

        [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Retention pass failed; it will be tried again")]
        public static partial void TrimFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "Writing group positions failed; they will be written with the next change")]
        public static partial void GroupPositionsFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 3006, Level = LogLevel.Critical, Message = "The event log at {Path} cannot be written until the hub restarts: {Reason}. Every publish is refused (503); /health/live and /health/ready fail")]
        public static partial void Failed(ILogger logger, Exception? exception, string path, string reason);

        [LoggerMessage(EventId = 3007, Level = LogLevel.Debug, Message = "The event log is still unwritable: {Appends} appends ({Events} events) refused ({Error})")]
        public static partial void StillUnwritable(ILogger logger, int appends, int events, string error);

        [LoggerMessage(EventId = 3008, Level = LogLevel.Debug, Message = "The event log is still unwritable: the probe write failed ({Error})")]
        public static partial void ProbeFailed(ILogger logger, string error);

        [LoggerMessage(EventId = 3009, Level = LogLevel.Information, Message = "The event log at {Path} can be written again after {Seconds:0.#} s; {Refused} appends were refused meanwhile")]
        public static partial void Recovered(ILogger logger, string path, double seconds, int refused);
        [LoggerMessage(EventId = 3011, Level = LogLevel.Warning, Message = "The disk holding the event log at {Path} is full: its reserve of {Bytes} bytes ({ReservePath}) was deleted so that retention can delete events and the write-ahead log can be checkpointed. Until the disk has room again, retention and a checkpoint run after every write; the reserve is made again once the disk has twice its size free")]
        public static partial void ReserveReleased(ILogger logger, string path, int bytes, string reservePath);

        [LoggerMessage(EventId = 3012, Level = LogLevel.Information, Message = "The reserve of {Bytes} bytes that retention uses on a full disk is in place at {ReservePath}")]
        public static partial void ReserveInPlace(ILogger logger, int bytes, string reservePath);

        [LoggerMessage(EventId = 3013, Level = LogLevel.Warning, Message = "The reserve of {Bytes} bytes beside the event log (Hub:Log:Sqlite:ReserveBytes) could not be made at {ReservePath}: {Reason}. Without it a disk filled to the last byte may leave retention no room to delete events; it is tried again every second")]
        public static partial void ReserveNotMade(ILogger logger, int bytes, string reservePath, string reason, Exception? exception);

        [LoggerMessage(EventId = 3014, Level = LogLevel.Warning, Message = "Writing {Appends} appends ({Events} events) to the event log at {Path} found the disk full; the writer made room (retention deleted {Deleted} events, the write-ahead log was checkpointed) and wrote them")]
        public static partial void WroteAfterMakingRoom(ILogger logger, string path, int appends, int events, int deleted);

        [LoggerMessage(EventId = 3015, Level = LogLevel.Debug, Message = "Write-ahead log checkpointed: {Frames} frames, {Copied} copied into the database")]
        public static partial void Checkpointed(ILogger logger, long frames, long copied);

        [LoggerMessage(EventId = 3016, Level = LogLevel.Debug, Message = "Checkpointing the write-ahead log failed ({Error})")]
        public static partial void CheckpointFailed(ILogger logger, string error);

        [LoggerMessage(EventId = 3102, Level = LogLevel.Information, Message = "The stored counters of the {Count} topics published to least recently were dropped (Hub:Log:MaxTopics is {Max})")]
        public static partial void TopicsDropped(ILogger logger, int count, int max);

        [LoggerMessage(EventId = 3010, Level = LogLevel.Warning, Message = "Looking for other writers' commits to the event log at {Path} failed; this node learns of them late until a look succeeds (tried at every Hub:Log:Sqlite:PollInterval)")]
        public static partial void PollFailed(ILogger logger, Exception exception, string path);

        [LoggerMessage(EventId = 3104, Level = LogLevel.Information, Message = "The positions of {Count} groups gone longer than the retention (Hub:Log:Retention:MaxAge) were removed")]
        public static partial void GroupPositionsExpired(ILogger logger, int count);

        [LoggerMessage(EventId = 3105, Level = LogLevel.Warning, Message = "The positions of {Count} groups, stored before groups had identities (their topics were not stored), were dropped: those groups start again where their first member asks ({Names})")]
        public static partial void GroupPositionsDropped(ILogger logger, int count, string names);
    }
}
