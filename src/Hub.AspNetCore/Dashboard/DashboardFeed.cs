using Hub.Log;
using Hub.Server.Subscriptions;
using Hub.Server.Telemetry;

namespace Hub.Server.Dashboard;

/// <summary>
/// Takes a <see cref="DashboardSnapshot"/> once a second from the figures the hub already keeps (the log's head and
/// topics, the delivery layer's <see cref="DeliverySnapshot"/> of the live stages, <see cref="HubMetrics"/>) and hands the
/// newest to every watcher. Nothing is computed per event; a snapshot costs one pass over the live stages.
/// </summary>
internal sealed class DashboardFeed : BackgroundService
{
    /// <summary>The most subscriptions and topics a snapshot lists.</summary>
    public const int MaxRows = 100;

    /// <summary>How many points of throughput <see cref="History"/> keeps (five minutes at one a second).</summary>
    public const int HistoryLength = 300;

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private readonly IEventLog _log;
    private readonly SubscriptionRegistry _registry;
    private readonly HubMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly Lock _tickLock = new(); // guards the history and makes a tick (from the timer or a test) one step
    private readonly Queue<RatePoint> _history = new(HistoryLength);
    private TaskCompletionSource<DashboardSnapshot> _next = NewNext();
    private DashboardSnapshot _latest;
    private long _lastTimestamp;

    public DashboardFeed(IEventLog log, SubscriptionRegistry registry, HubMetrics metrics, TimeProvider time)
    {
        _log = log;
        _registry = registry;
        _metrics = metrics;
        _time = time;
        _lastTimestamp = time.GetTimestamp();
        _latest = Take(previous: null, elapsedSeconds: 0);
    }

    /// <summary>The newest snapshot.</summary>
    public DashboardSnapshot Latest => Volatile.Read(ref _latest);

    /// <summary>Waits for a snapshot newer than <paramref name="seen"/> (returns at once if there already is one).</summary>
    public Task<DashboardSnapshot> NextAsync(DashboardSnapshot seen, CancellationToken cancellationToken)
    {
        var next = Volatile.Read(ref _next);
        var latest = Latest;
        return !ReferenceEquals(latest, seen) ? Task.FromResult(latest) : next.Task.WaitAsync(cancellationToken);
    }

    /// <summary>The recent throughput, oldest first.</summary>
    public IReadOnlyList<RatePoint> History()
    {
        lock (_tickLock)
        {
            return [.. _history];
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                Tick();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>Takes a snapshot, records its rates and wakes the watchers.</summary>
    internal void Tick()
    {
        DashboardSnapshot snapshot;
        lock (_tickLock)
        {
            var now = _time.GetTimestamp();
            var elapsed = _time.GetElapsedTime(_lastTimestamp, now).TotalSeconds;
            _lastTimestamp = now;
            snapshot = Take(Latest, elapsed);
            if (_history.Count == HistoryLength)
            {
                _history.Dequeue();
            }

            _history.Enqueue(new RatePoint(snapshot.Time, snapshot.PublishedPerSecond, snapshot.DeliveredPerSecond));

            // Publish the snapshot before completing the old promise, so a woken watcher that asks again sees it as latest.
            Volatile.Write(ref _latest, snapshot);
        }

        Interlocked.Exchange(ref _next, NewNext()).TrySetResult(snapshot);
    }

    private DashboardSnapshot Take(DashboardSnapshot? previous, double elapsedSeconds)
    {
        var published = _metrics.Published;
        var delivered = _metrics.Delivered;
        double Rate(long now, long before) => elapsedSeconds > 0 ? Math.Max(0, now - before) / elapsedSeconds : 0;

        var stages = _registry.Snapshot(MaxRows, out var subscriptionCount);
        var topics = _log.GetTopics();
        return new DashboardSnapshot(
            _time.GetUtcNow(),
            _log.Head,
            _log.FirstRetained,
            published,
            delivered,
            _metrics.Dropped,
            previous is null ? 0 : Rate(published, previous.Published),
            previous is null ? 0 : Rate(delivered, previous.Delivered),
            stages.Connections,
            subscriptionCount,
            stages.Subscriptions,
            [.. stages.Groups.Take(MaxRows)],
            topics.Count,
            [.. topics.OrderByDescending(t => t.LastSequence).Take(MaxRows)]);
    }

    private static TaskCompletionSource<DashboardSnapshot> NewNext() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
