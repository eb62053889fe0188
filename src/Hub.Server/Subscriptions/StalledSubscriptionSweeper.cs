using Hub.Server.Health;
using Hub.Server.Log;
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
internal sealed partial class StalledSubscriptionSweeper(SubscriptionRegistry registry, IEventLog log, TimeProvider time, ILogger<StalledSubscriptionSweeper> logger, DispatchHeartbeat? heartbeat = null) : BackgroundService
{
    internal static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    internal static readonly TimeSpan Patience = TimeSpan.FromSeconds(2);

    private readonly Dictionary<string, (long Cursor, DateTimeOffset Since)> _suspects = new(StringComparer.Ordinal);

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
            // Group members share their group's position; a group that falls behind tells its members with a gap.
            if (subscription is not Subscription || subscription.Request.Overflow != OverflowPolicy.Disconnect || subscription.Buffered == 0 || cursor + 1 >= firstRetained)
            {
                continue;
            }

            seen.Add(subscription.Id);
            if (!_suspects.TryGetValue(subscription.Id, out var suspect) || suspect.Cursor != cursor)
            {
                _suspects[subscription.Id] = (cursor, now);
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
        [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Subscription {SubscriptionId} has not taken data while the log moved past it (cursor {Cursor}, first retained {First}); its connection {ConnectionId} is closed (overflow: disconnect)")]
        public static partial void Disconnecting(ILogger logger, string subscriptionId, string connectionId, long cursor, long first);
    }
}
