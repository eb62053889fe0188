using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Hub.Log;
using Hub.Log.Sqlite;
using Hub.Server.Subscriptions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Hub.Benchmarks;

/// <summary>
/// Publish → deliver latency at a fixed rate, outside BenchmarkDotNet (which reports means, not per-event
/// percentiles): single-event appends every 1/rate seconds, without waiting for the previous one (many publishers),
/// into the SQLite or the memory log; one <see cref="Subscription"/> stage reads them and its channel stamps each
/// arrival. Latency is from just before <c>AppendAsync</c> to the stage handing the batch to its connection: the
/// commit (fsync with SQLite), the wake-up and the read; the network and HTTP are not in it.
/// </summary>
public static class LatencyProbe
{
    public static async Task RunAsync(int rate, TimeSpan duration, int runs)
    {
        foreach (var kind in new[] { "Sqlite", "Memory" })
        {
            var results = new List<(double P50, double P99, double P999)>();
            for (var run = 0; run < runs; run++)
            {
                results.Add(await MeasureAsync(kind, rate, duration));
            }

            static double Median(IEnumerable<double> values) => values.Order().ElementAt(values.Count() / 2);
            Console.WriteLine($"{kind,-6} {rate,6}/s  p50 {Median(results.Select(r => r.P50)),8:F3} ms  p99 {Median(results.Select(r => r.P99)),8:F3} ms  p99.9 {Median(results.Select(r => r.P999)),8:F3} ms   (median of {runs} runs: {string.Join("; ", results.Select(r => $"{r.P50:F2}/{r.P99:F2}"))})");
        }
    }

    private static async Task<(double P50, double P99, double P999)> MeasureAsync(string kind, int rate, TimeSpan duration)
    {
        var directory = Directory.CreateTempSubdirectory("hub-latency-").FullName;
        var options = new EventLogOptions { Kind = kind, Sqlite = { Path = Path.Combine(directory, "hub.db") } };
        IEventLog log = kind == "Memory"
            ? new LogTail(new MemoryEventLog(Options.Create(options)), options, MemoryEventLog.TailCapacity(options))
            : new LogTail(new SqliteEventLog(Options.Create(options), TimeProvider.System, NullLogger<SqliteEventLog>.Instance), options, SqliteEventLog.TailCapacity(options));
        try
        {
            var count = (int)(rate * duration.TotalSeconds);
            var sent = new long[count + 1];
            var latencies = new double[count];
            var channel = new StampingChannel(sent, latencies);
            var request = SubscribeRequest.Parse(JsonDocument.Parse("""{"topics":[">"],"maxDemand":100000}""").RootElement);
            var subscription = new Subscription("latency", "latency", "c", request, log.Head, log, channel, DeliveryOptions.DefaultMaxBatchBytes, NullLogger.Instance, static _ => { }, new Hub.Server.Telemetry.HubMetrics());
            channel.Subscription = subscription;
            subscription.Start();

            var body = Encoding.UTF8.GetBytes("""{"topic":"t","type":null,"id":null,"key":null,"time":"2026-11-22T00:00:00Z","data":{"order":12345,"total":99.5,"items":["a","b"],"note":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},"headers":null}""");
            var clock = Stopwatch.StartNew();
            var interval = Stopwatch.Frequency / (double)rate;
            var appends = new List<Task>(count);
            for (var i = 1; i <= count; i++)
            {
                var due = (long)(i * interval);
                while (clock.ElapsedTicks < due)
                {
                    if (due - clock.ElapsedTicks > Stopwatch.Frequency / 1000)
                    {
                        await Task.Delay(1);
                    }
                    else
                    {
                        Thread.SpinWait(20);
                    }
                }

                // Sequences are 1, 2, 3… here, so the i-th publish is sequence i.
                sent[i] = Stopwatch.GetTimestamp();
                appends.Add(log.AppendAsync([new EventDraft("t", null, null, null, DateTimeOffset.UtcNow, body)]).AsTask());
            }

            await Task.WhenAll(appends);
            await channel.AllArrived(count).WaitAsync(TimeSpan.FromSeconds(60));
            subscription.End("done", notify: false);
            Array.Sort(latencies);
            return (latencies[(int)(count * 0.50)], latencies[(int)(count * 0.99)], latencies[Math.Min(count - 1, (int)(count * 0.999))]);
        }
        finally
        {
            if (log is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync();
            }

            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private sealed class StampingChannel(long[] sent, double[] latencies) : ISubscriberChannel
    {
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _arrived;
        private int _expected = int.MaxValue;

        public Subscription? Subscription { get; set; }

        public Task AllArrived(int count)
        {
            Volatile.Write(ref _expected, count);
            if (Volatile.Read(ref _arrived) >= count)
            {
                _all.TrySetResult();
            }

            return _all.Task;
        }

        public Task SendEventsAsync(string connectionId, string subscriptionId, List<LogEntry> batch, CancellationToken cancellationToken)
        {
            var now = Stopwatch.GetTimestamp();
            foreach (var entry in batch)
            {
                latencies[entry.Sequence - 1] = Stopwatch.GetElapsedTime(sent[entry.Sequence], now).TotalMilliseconds;
            }

            Subscription!.Ask(batch.Count);
            if (Interlocked.Add(ref _arrived, batch.Count) >= Volatile.Read(ref _expected))
            {
                _all.TrySetResult();
            }

            return Task.CompletedTask;
        }

        public Task SendGapAsync(string connectionId, string subscriptionId, GapNotice gap, CancellationToken cancellationToken) => throw new InvalidOperationException("gap");

        public Task SendEndedAsync(string connectionId, string subscriptionId, EndedNotice ended, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
