using Hub.Log;

namespace Hub.Server.Groups;

/// <summary>An event on its way through a group: where it queues, and whether a member had it before.</summary>
/// <param name="Entry">The log entry.</param>
/// <param name="Partition">The queue it belongs to (0 in a demand group).</param>
/// <param name="Redelivered">It was handed to a member before that did not acknowledge it.</param>
internal readonly record struct GroupItem(LogEntry Entry, int Partition, bool Redelivered)
{
    public long Sequence => Entry.Sequence;
}
