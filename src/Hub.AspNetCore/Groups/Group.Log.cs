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

        [LoggerMessage(EventId = 4004, Level = LogLevel.Information, Message = "Group {Group}: took {Taken} partitions, released {Released}, lost {Lost}, hands over {Draining}; holds {Held}, its share {Share}")]
        public static partial void LeasesChanged(ILogger logger, string group, int taken, int released, int lost, int draining, int held, int share);

        [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "Group {Group}: a lease round failed (leaving: {Leaving}); it is tried again, and the leases held stay this node's until they may have expired")]
        public static partial void LeaseRoundFailed(ILogger logger, Exception exception, string group, bool leaving);

        [LoggerMessage(EventId = 4007, Level = LogLevel.Warning, Message = "Group {Group} cannot read the log now; it waits where it is and reads on when the log answers again")]
        public static partial void ReadWaiting(ILogger logger, Exception exception, string group);

        [LoggerMessage(EventId = 4006, Level = LogLevel.Warning, Message = "Group {Group}: its {Count} leases may have expired without renewal; it hands out nothing more of them, and another node redelivers what was unacknowledged")]
        public static partial void LeasesExpired(ILogger logger, string group, int count);
    }
}
