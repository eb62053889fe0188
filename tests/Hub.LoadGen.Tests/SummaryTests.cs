namespace Hub.LoadGen.Tests;

/// <summary>
/// bench.sh's tables from a folder of reports: medians over the runs, requests/s per batch size beside the baseline,
/// and each target of the issue met, missed or not measured from those medians.
/// </summary>
public sealed class SummaryTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("loadgen-summary-").FullName;
    private int _files;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private void Write(string label, double perClient = 0, double requests = 0, double published = 0, double p99 = 0, double perConnection = 0, int subscribers = 10)
    {
        var report = new LoadReport
        {
            Label = label, Target = label.EndsWith("/baseline", StringComparison.Ordinal) ? "baseline" : "hub", Mode = "max-rate",
            Subscribers = subscribers, Slow = 0, Stalled = 0, Publishers = 4, Batch = 100, Rate = 0, Seconds = 1,
            Published = (long)published, PublishedPerSecond = published, Requests = (long)requests, RequestsPerSecond = requests,
            Rejected = 0, FailedRequests = 0, UnansweredRequests = 0, Delivered = [], DeliveredSlow = [], Complete = 0,
            DeliveredPerSecond = new Spread(perClient, perClient, perClient), DeliveredPerSecondTotal = 0,
            LatencyMs = new Latency(1, p99 / 2, p99, p99, p99), Server = new ServerFigures(1, 0, 0, 0, 0, perConnection), ClientFailures = 0,
        };
        File.WriteAllText(Path.Combine(_folder, $"{_files++:D3}.json"), report.ToJson());
    }

    [Fact]
    public void Targets_AreJudgedOnTheMediansBesideTheBaseline()
    {
        foreach (var (mine, theirs) in new[] { (250.0, 100.0), (150.0, 100.0), (260.0, 100.0) }) // medians 250 and 100: 2.5×
        {
            Write("s10/hub-memory", perClient: mine);
            Write("s10/baseline", perClient: theirs);
        }

        Write("s100/hub-memory", perClient: 150); // 1.5× the baseline: under 2×
        Write("s100/baseline", perClient: 100);
        Write("s10/hub-sqlite", perClient: 100); // exactly 1×: met
        Write("b10/hub-sqlite", requests: 900);
        Write("b10/baseline", requests: 1_000);
        Write("lat2k/hub-sqlite", published: 2_000, p99: 4.5, subscribers: 100);
        Write("idle/hub-sqlite", perConnection: 31 * 1024, subscribers: 1000);
        Write("ingest/hub-sqlite", published: 90_000, requests: 900, subscribers: 0);
        Write("ingest/hub-sqlite-process", published: 120_000, requests: 1_200, subscribers: 0);

        var targets = Summary.Targets(Directory.EnumerateFiles(_folder).Select(f => LoadReport.FromJson(File.ReadAllText(f)))
            .GroupBy(r => r.Label).ToDictionary(g => g.Key, g => g.ToArray())).ToList();
        bool? Verdict(string what, string server) => targets.Single(t => t.What.StartsWith(what, StringComparison.Ordinal) && t.Server == server).Met;

        Assert.True(Verdict("delivered/s per client at 10 subscribers ≥ 2×", "hub-memory"));
        Assert.Equal("2.50×", targets.Single(t => t.What.StartsWith("delivered/s per client at 10 subscribers ≥ 2×", StringComparison.Ordinal)).Ratio);
        Assert.False(Verdict("delivered/s per client at 100 subscribers ≥ 2×", "hub-memory"));
        Assert.True(Verdict("delivered/s per client at 10 subscribers ≥ 1×", "hub-sqlite"));
        Assert.Null(Verdict("delivered/s per client at 100 subscribers ≥ 2×", "hub-sqlite")); // no run: not measured
        Assert.False(Verdict("requests/s at batches of 10", "hub-sqlite"));
        Assert.True(Verdict("p99 publish → receive ≤ 5 ms", "hub-sqlite"));
        Assert.False(Verdict("RSS per idle subscribed connection", "hub-sqlite"));
        Assert.False(Verdict("durable ingest", "hub-sqlite"));
        Assert.True(Verdict("durable ingest", "hub-sqlite-process"));

        var markdown = Summary.Write(_folder);
        Assert.Contains("| 10 | hub-sqlite | 1 | 900 | 0.90× |", markdown, StringComparison.Ordinal);
        Assert.Contains("| hub-sqlite-process | 1 | 120,000 | 1,200 | 120,000 | 0 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| durable ingest over HTTP ≥ 100,000 events/s (8 publishers × 100) | hub-sqlite | 90,000 | – | – | **missed** |", markdown, StringComparison.Ordinal);
    }
}
