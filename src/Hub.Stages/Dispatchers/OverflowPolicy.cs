namespace Hub.Stages.Dispatchers;

/// <summary>What a <see cref="CursorBroadcastDispatcher{T}"/> does when its log moves past a subscriber's cursor.</summary>
public enum OverflowPolicy
{
    /// <summary>Skip to the oldest retained event and report the gap to the subscriber.</summary>
    DropOldest,

    /// <summary>End the subscription (reason <see cref="StageExitReason.Overflow"/>).</summary>
    Disconnect,
}
