using Hub.Log;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Hub.Server.Subscriptions;

/// <summary>
/// The delivery layer's one timer: once an <see cref="Interval"/> it asks every live stage whether it is stalled
/// (<see cref="DeliveryStage.CheckStall"/>: its policy is <c>disconnect</c>, it is blocked in a write, and the log has
/// moved past it for <see cref="Patience"/>), and disconnects those that are: the stage is ended and its connection
/// closed, which releases the pending write (a group member's events go to the other members). One timer for the hub,
/// not one per stage; each pass is the dispatch loop's heartbeat for readiness.
/// </summary>
internal sealed partial class StalledSubscriptionSweeper(SubscriptionRegistry registry, IEventLog log, TimeProvider time, ILogger<StalledSubscriptionSweeper> logger, DispatchHeartbeat? heartbeat = null) : BackgroundService
{
    internal static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    internal static readonly TimeSpan Patience = TimeSpan.FromSeconds(2);

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

    /// <summary>One pass: each stage says whether it is stalled past the patience; those that are are disconnected.</summary>
    internal void Sweep()
    {
        heartbeat?.Beat();
        var now = time.GetUtcNow();
        var firstRetained = log.FirstRetained;
        foreach (var stage in registry.All)
        {
            if (stage.CheckStall(firstRetained, now, Patience))
            {
                Log.Disconnecting(logger, stage.Id, stage.ConnectionId, stage.Cursor, firstRetained);
                registry.Remove(stage.Id, "overflow", notify: false);
                registry.AbortConnection(stage.ConnectionId);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Subscription {SubscriptionId} has not taken data while the log moved past it (cursor {Cursor}, first retained {First}); its connection {ConnectionId} is closed (overflow: disconnect)")]
        public static partial void Disconnecting(ILogger logger, string subscriptionId, string connectionId, long cursor, long first);
    }
}
