using Hub.Log;

namespace Hub.Server.Subscriptions;

/// <summary>
/// Where a subscription's stage writes: its client's connection. Each call completes when the connection has taken
/// the message (so a stalled socket holds only the stage that writes to it).
/// </summary>
public interface ISubscriberChannel
{
    /// <summary>Sends <c>events(subscriptionId, batch)</c>.</summary>
    Task SendEventsAsync(string connectionId, string subscriptionId, List<LogEntry> batch, CancellationToken cancellationToken);

    /// <summary>Sends <c>gap(subscriptionId, {from, to, reason})</c>.</summary>
    Task SendGapAsync(string connectionId, string subscriptionId, GapNotice gap, CancellationToken cancellationToken);

    /// <summary>Sends <c>ended(subscriptionId, {reason})</c>.</summary>
    Task SendEndedAsync(string connectionId, string subscriptionId, EndedNotice ended, CancellationToken cancellationToken);

    /// <summary>
    /// Events the channel has taken and its consumer has not yet completed: an in-process handler's events handed to its
    /// calls and not yet handled. 0 for a connection, which completes a write when it has taken the message.
    /// </summary>
    int InFlight => 0;
}

/// <summary>The body of a <c>gap</c> message: matching events in <c>from..to</c> were skipped.</summary>
public sealed record GapNotice(long From, long To, string Reason);

/// <summary>The body of an <c>ended</c> message.</summary>
public sealed record EndedNotice(string Reason);
