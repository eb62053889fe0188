using Microsoft.Extensions.Logging;

namespace Hub.Server.Groups;

internal sealed partial class Group
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Group {Group}: member {MemberId} left holding {Count} unacknowledged events; they go to the other members")]
        public static partial void Redelivering(ILogger logger, string group, string memberId, int count);

        [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Group {Group} fell behind the retention ({Reason}): events {From}..{To} were dropped before it read them; its members are told by their overflow policy (gap, or ended)")]
        public static partial void FellBehind(ILogger logger, string group, long from, long to, string reason);

        [LoggerMessage(EventId = 4003, Level = LogLevel.Error, Message = "Group {Group} failed; its members are ended")]
        public static partial void PumpFailed(ILogger logger, Exception exception, string group);
    }
}
