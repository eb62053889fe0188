using Hub.Server.Health;
using Hub.Log;
using Hub.Stages.Dispatchers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Hub.Server.Subscriptions;

/// <summary>
/// Applies the <c>disconnect</c> overflow policy to subscribers whose socket has stopped taking data. Such a
/// subscription's stage is blocked in a write, so it cannot notice that the log has moved past its cursor; once that
/// has been so for <see cref="Patience"/>, the sweeper ends the subscription and closes its connection (which
/// releases the pending write). One timer for the whole hub, not one per subscription.
/// </summary>
/// <remarks>
/// Group members are swept the same way: a member blocked in a write holds its events unacknowledged, so its group's
/// position (its <see cref="ISubscription.Cursor"/>) stays where it is while the log moves on; once that position is
/// behind the retention, a member with <c>disconnect</c> that has sent nothing for <see cref="Patience"/> is ended and its
/// connection closed, and what it held goes to the other members. Progress is the cursor and the count delivered
/// together, so a member is never taken for stalled because another member holds the group's position back.
/// </remarks>
internal sealed partial class StalledSubscriptionSweeper(SubscriptionRegistry registry, IEventLog log, TimeProvider time, ILogger<StalledSubscriptionSweeper> logger, DispatchHeartbeat? heartbeat = null) : BackgroundService
{
    internal static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    internal static readonly TimeSpan Patience = TimeSpan.FromSeconds(2);

    private readonly Dictionary<string, ((long Cursor, long Delivered) Progress, DateTimeOffset Since)> _suspects = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                Sweep();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// One pass: remember who is stuck behind the retention, and disconnect who has been for too long. Each pass is the
    /// dispatch loop's heartbeat for readiness.
    /// </summary>
    internal void Sweep()
    {
        heartbeat?.Beat();
        var now = time.GetUtcNow();
        var firstRetained = log.FirstRetained;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var subscription in registry.All)
        {
            var cursor = subscription.Cursor;
            if (subscription.Request.Overflow != OverflowPolicy.Disconnect || subscription.Buffered == 0 || cursor + 1 >= firstRetained)
            {
                continue;
            }

            seen.Add(subscription.Id);
            var progress = (cursor, subscription.Delivered);
            if (!_suspects.TryGetValue(subscription.Id, out var suspect) || suspect.Progress != progress)
            {
                _suspects[subscription.Id] = (progress, now);
                continue;
            }

            if (now - suspect.Since >= Patience)
            {
                Log.Disconnecting(logger, subscription.Id, subscription.ConnectionId, cursor, firstRetained);
                registry.Remove(subscription.Id, "overflow", notify: false);
                registry.AbortConnection(subscription.ConnectionId);
                seen.Remove(subscription.Id);
            }
        }

        foreach (var id in _suspects.Keys.Where(id => !seen.Contains(id)).ToArray())
        {
            _suspects.Remove(id);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Subscription {SubscriptionId} has not taken data while the log moved past it (cursor {Cursor}, first retained {First}); its connection {ConnectionId} is closed (overflow: disconnect)")]
        public static partial void Disconnecting(ILogger logger, string subscriptionId, string connectionId, long cursor, long first);
    }
}
