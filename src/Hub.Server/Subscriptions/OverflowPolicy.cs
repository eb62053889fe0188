namespace Hub.Server.Subscriptions;

/// <summary>What happens to a subscriber whose cursor falls behind what the log retains.</summary>
public enum OverflowPolicy
{
    /// <summary>Skip to the oldest retained event and tell the subscriber with <c>gap</c>.</summary>
    DropOldest,

    /// <summary>End the subscription and tell the subscriber with <c>ended</c>.</summary>
    Disconnect,
}
