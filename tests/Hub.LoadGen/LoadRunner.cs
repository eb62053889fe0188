using System.Diagnostics;

namespace Hub.LoadGen;

/// <summary>
/// One run: connects the subscribers (each its own WebSocket, subscribed before anything is published), publishes for
/// the duration (or the event cap), waits for the regular subscribers to receive what was published (up to the drain
/// time), and measures. Everything it starts ends with the run: requests still unanswered after the grace are
/// cancelled, sockets are closed.
/// </summary>
internal static class LoadRunner
{
    private const int ConnectConcurrency = 32;

    public static async Task<LoadReport> RunAsync(LoadOptions options, CancellationToken cancellationToken = default)
    {
        options.Validate();
        await using var memory = new ServerMemory(options.ServerPid);
        // One HTTP client per node publishers post to (a node is one origin: its own connection pool).
        var http = Enumerable.Range(0, options.Publishers).Select(options.PublisherNode).Distinct().ToDictionary(node => node, node => new HttpClient(
            new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            BaseAddress = node,
            Timeout = Timeout.InfiniteTimeSpan,
        });
        using var disposeClients = new Disposer(http.Values);

        if (options.Idle)
        {
            await WarmUpAsync(options, cancellationToken);
        }

        var before = memory.Read();
        var subscribers = new List<Subscriber>(options.Subscribers);
        using var keepAlive = new CancellationTokenSource();
        Task pinging = Task.CompletedTask;
        try
        {
            await ConnectAsync(options, subscribers, cancellationToken);
            pinging = PingAsync(subscribers, keepAlive.Token);
            if (options.Idle)
            {
                await Task.Delay(options.Settle, cancellationToken);
                var connected = memory.Read();
                return Report(options, subscribers, [], 0, options.Settle.TotalSeconds, memory, before, connected);
            }

            var afterConnect = memory.Read();
            var budget = new EventBudget(options.MaxEvents);
            var publishers = Enumerable.Range(0, options.Publishers).Select(i => new Publisher(http[options.PublisherNode(i)], options, budget)).ToArray();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var start = Stopwatch.GetTimestamp();
            stop.CancelAfter(options.Duration);
            abort.CancelAfter(options.Duration + options.Grace);
            var rate = options.Rate > 0 ? (double)options.Rate / options.Publishers : 0;
            var running = publishers.Select(p => Task.Run(() => p.RunAsync(start, rate, stop.Token, abort.Token), CancellationToken.None)).ToArray();
            await Task.WhenAll(running);
            var publishingEnded = Math.Min(Stopwatch.GetTimestamp(), start + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency));
            var published = publishers.Sum(p => p.Acknowledged);

            // Drain: the regular subscribers should get every published event.
            var drainUntil = Stopwatch.GetTimestamp() + (long)(options.Drain.TotalSeconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < drainUntil && subscribers.Any(s => s.Kind == SubscriberKind.Regular && s.Delivered < published && s.Failure is null))
            {
                await Task.Delay(20, cancellationToken);
            }

            var lastAck = publishers.Max(p => p.LastAcknowledgedTimestamp);
            var window = Math.Max(publishingEnded, lastAck) - start;
            return Report(options, subscribers, publishers, start, window / (double)Stopwatch.Frequency, memory, before, afterConnect);
        }
        finally
        {
            await keepAlive.CancelAsync();
            await pinging;
            await Task.WhenAll(subscribers.Select(s => s.DisposeAsync().AsTask()));
        }
    }

    /// <summary>Idle mode: before the memory the server holds without connections is read, a warm-up round of
    /// <see cref="WarmUpConnections"/> connections (each subscribed on the hub, receiving a few events) comes and goes, so
    /// that the server's connection, subscription and delivery code is loaded and compiled at its final tier (the runtime
    /// recompiles a method once it has been called 30 times): that code is the server's once, not each connection's, and
    /// would otherwise land in the first count's figure (about 12 MB on the hub). The same for every server.</summary>
    private static async Task WarmUpAsync(LoadOptions options, CancellationToken cancellationToken)
    {
        var warm = options with { Subscribers = Math.Min(options.Subscribers, WarmUpConnections), Slow = 0, Stalled = 0, Idle = false, ServerPid = 0, MaxEvents = 100, Duration = TimeSpan.FromSeconds(5), Drain = TimeSpan.FromSeconds(5) };
        await RunAsync(warm, cancellationToken);

        // The runtime's tier-up compiles in the background, after 100 ms without new methods: give it time to end.
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
    }

    /// <summary>Connections in idle mode's warm-up round (at most as many as measured).</summary>
    private const int WarmUpConnections = 200;

    private static async Task ConnectAsync(LoadOptions options, List<Subscriber> subscribers, CancellationToken cancellationToken)
    {
        for (var i = 0; i < options.Subscribers; i++)
        {
            // The last ones are the stalled, before them the slow: subscriber 0 is always regular when any is.
            var kind = i >= options.Subscribers - options.Stalled ? SubscriberKind.Stalled
                : i >= options.Regular ? SubscriberKind.Slow
                : SubscriberKind.Regular;
            subscribers.Add(new Subscriber(kind, options.IsHub, options.MaxDemand, options.MinDemand) { SlowDelay = options.SlowDelay });
        }

        using var gate = new SemaphoreSlim(ConnectConcurrency);
        await Task.WhenAll(subscribers.Select(async (s, i) =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                await s.StartAsync(options.SubscriberNode(i), options.Topic, options.MaxDemand, options.MinDemand, cancellationToken);
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    private static async Task PingAsync(List<Subscriber> subscribers, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(10));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                foreach (var s in subscribers)
                {
                    try
                    {
                        await s.PingAsync();
                    }
                    catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or OperationCanceledException or ObjectDisposedException)
                    {
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static LoadReport Report(LoadOptions o, List<Subscriber> subscribers, Publisher[] publishers, long start, double window,
        ServerMemory memory, (long RssKb, long HwmKb) before, (long RssKb, long HwmKb) connected)
    {
        var end = memory.Read();
        double RateOf(Subscriber s)
        {
            if (s.Delivered == 0)
            {
                return 0;
            }

            var seconds = Math.Max(window, (s.LastDeliveryTimestamp - start) / (double)Stopwatch.Frequency);
            return s.Delivered / seconds;
        }

        var regular = subscribers.Where(s => s.Kind == SubscriberKind.Regular).ToArray();
        var others = subscribers.Where(s => s.Kind == SubscriberKind.Slow).Concat(subscribers.Where(s => s.Kind == SubscriberKind.Stalled)).ToArray();
        var published = publishers.Sum(p => p.Acknowledged);
        var latency = new LatencyHistogram();
        foreach (var s in subscribers)
        {
            if (s.Latency is { } h)
            {
                latency.Add(h);
            }
        }

        var lastDelivery = subscribers.Count == 0 ? start : subscribers.Max(s => s.LastDeliveryTimestamp);
        var totalSeconds = Math.Max(window, (lastDelivery - start) / (double)Stopwatch.Frequency);
        var failures = subscribers.Where(s => s.Failure is not null).ToArray();
        return new LoadReport
        {
            Label = o.Label,
            Target = o.Target,
            Mode = o.Idle ? "idle" : o.Rate > 0 ? "fixed-rate" : "max-rate",
            Nodes = o.Nodes.Count,
            Placement = o.Nodes.Count > 1 ? o.Placement : null,
            Subscribers = o.Subscribers,
            Slow = o.Slow,
            Stalled = o.Stalled,
            Publishers = o.Publishers,
            Batch = o.Batch,
            Rate = o.Rate,
            Seconds = Math.Round(window, 3),
            Published = published,
            PublishedPerSecond = window > 0 ? Math.Round(published / window) : 0,
            Requests = publishers.Sum(p => p.Requests),
            RequestsPerSecond = window > 0 ? Math.Round(publishers.Sum(p => p.Requests) / window) : 0,
            Rejected = publishers.Sum(p => p.Rejected),
            FailedRequests = publishers.Sum(p => p.Failed),
            UnansweredRequests = publishers.Sum(p => p.Unanswered),
            Delivered = regular.Select(s => s.Delivered).ToArray(),
            DeliveredSlow = others.Select(s => s.Delivered).ToArray(),
            Complete = regular.Count(s => s.Delivered >= published),
            DeliveredPerSecond = Round(Spread.Of(regular.Select(RateOf).ToArray())),
            DeliveredPerSecondSlow = others.Length > 0 ? Round(Spread.Of(others.Select(RateOf).ToArray())) : null,
            DeliveredPerSecondTotal = totalSeconds > 0 ? Math.Round(subscribers.Sum(s => s.Delivered) / totalSeconds) : 0,
            LatencyMs = Latency.Of(latency),
            Server = new ServerFigures(o.ServerPid, before.RssKb, connected.RssKb, Math.Max(memory.PeakRssKb, end.RssKb), end.HwmKb,
                o.ServerPid > 0 && o.Subscribers > 0 ? Math.Round((connected.RssKb - before.RssKb) * 1024.0 / o.Subscribers) : 0),
            ClientFailures = failures.Length,
            FirstClientFailure = failures.FirstOrDefault()?.Failure,
        };
    }

    private static Spread Round(Spread s) => new(Math.Round(s.Min), Math.Round(s.Median), Math.Round(s.Max));

    /// <summary>Disposes the publishers' HTTP clients when the run ends.</summary>
    private sealed class Disposer(IEnumerable<IDisposable> items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var item in items)
            {
                item.Dispose();
            }
        }
    }
}
