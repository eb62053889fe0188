using System.Globalization;
using System.Text;

namespace Hub.LoadGen;

/// <summary>
/// Turns a folder of reports (one JSON line per file, labelled <c>scenario/server</c> by the benchmark script) into the
/// Markdown tables of <c>docs/benchmarks.md</c>: medians over the runs of each scenario on each server, then each
/// target of the benchmark issue, met or missed, with the figure.
/// </summary>
internal static class Summary
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static string Write(string folder)
    {
        var reports = Directory.EnumerateFiles(folder, "*.json").Order(StringComparer.Ordinal)
            .Select(f => File.ReadAllText(f).Trim()).Where(t => t.StartsWith('{'))
            .Select(LoadReport.FromJson).ToArray();
        var byKey = reports.GroupBy(r => r.Label).ToDictionary(g => g.Key, g => g.ToArray());
        var servers = reports.Select(r => Server(r.Label)).Distinct().Order(StringComparer.Ordinal).ToArray();
        var b = new StringBuilder();

        b.AppendLine("### Throughput at max rate (medians over the runs)");
        b.AppendLine();
        b.AppendLine("| scenario | server | runs | published/s | delivered/s per regular client: median (min–max) | each run's median | all events to every regular client | stalled client received | POSTs still unanswered at the end |");
        b.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var scenario in new[] { "s10", "s10-stalled", "s100", "s100-stalled" })
        {
            foreach (var server in servers)
            {
                if (!byKey.TryGetValue($"{scenario}/{server}", out var runs))
                {
                    continue;
                }

                b.AppendLine(C, $"| {Describe(scenario)} | {server} | {runs.Length} | {Fmt(Median(runs, r => r.PublishedPerSecond))} | {Fmt(Median(runs, r => r.DeliveredPerSecond.Median))} ({Fmt(Median(runs, r => r.DeliveredPerSecond.Min))}–{Fmt(Median(runs, r => r.DeliveredPerSecond.Max))}) | {string.Join(", ", runs.Select(r => Fmt(r.DeliveredPerSecond.Median)))} | {runs.Count(r => r.Complete == r.Delivered.Length)} of {runs.Length} runs | {(runs[0].Stalled > 0 ? Fmt(Median(runs, r => r.DeliveredSlow.Sum())) : "–")} | {Fmt(Median(runs, r => r.UnansweredRequests))} |");
            }
        }

        b.AppendLine();
        b.AppendLine("### Requests/s by batch size (10 subscribers, max rate; the smaller the batch, the more the request's own cost shows)");
        b.AppendLine();
        b.AppendLine("| batch | server | runs | requests/s | × baseline | published/s | delivered/s per client | each run's requests/s |");
        b.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (scenario, batch) in BatchScenarios)
        {
            foreach (var server in servers)
            {
                if (byKey.TryGetValue($"{scenario}/{server}", out var runs))
                {
                    var mine = Median(runs, r => r.RequestsPerSecond);
                    var ratio = byKey.TryGetValue($"{scenario}/baseline", out var theirs) ? Ratio(mine, Median(theirs, r => r.RequestsPerSecond)) : "–";
                    b.AppendLine(C, $"| {batch} | {server} | {runs.Length} | {Fmt(mine)} | {ratio} | {Fmt(Median(runs, r => r.PublishedPerSecond))} | {Fmt(Median(runs, r => r.DeliveredPerSecond.Median))} | {string.Join(", ", runs.Select(r => Fmt(r.RequestsPerSecond)))} |");
                }
            }
        }

        b.AppendLine();
        b.AppendLine("### Publish → receive latency at a fixed rate, 100 subscribers");
        b.AppendLine();
        b.AppendLine("| events/s | server | runs | published/s reached | p50 | p99 | p99.9 | max | each run's p99 | peak RSS |");
        b.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (scenario, rate) in new[] { ("lat2k", 2_000), ("lat", 10_000) })
        {
            foreach (var server in servers)
            {
                if (byKey.TryGetValue($"{scenario}/{server}", out var runs))
                {
                    b.AppendLine(C, $"| {Fmt(rate)} | {server} | {runs.Length} | {Fmt(Median(runs, r => r.PublishedPerSecond))} | {Ms(Median(runs, r => r.LatencyMs.P50))} | {Ms(Median(runs, r => r.LatencyMs.P99))} | {Ms(Median(runs, r => r.LatencyMs.P999))} | {Ms(Median(runs, r => r.LatencyMs.Max))} | {string.Join(", ", runs.Select(r => Ms(r.LatencyMs.P99)))} | {Median(runs, r => r.Server.PeakRssKb) / 1024:F0} MiB |");
                }
            }
        }

        b.AppendLine();
        b.AppendLine("### Durable ingest over HTTP (no subscribers; 8 publishers, batches of 100, ~200-byte events)");
        b.AppendLine();
        b.AppendLine("| server | runs | events/s | requests/s | each run's events/s | rejected (503) |");
        b.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var server in servers)
        {
            if (byKey.TryGetValue($"ingest/{server}", out var runs))
            {
                b.AppendLine(C, $"| {server} | {runs.Length} | {Fmt(Median(runs, r => r.PublishedPerSecond))} | {Fmt(Median(runs, r => r.RequestsPerSecond))} | {string.Join(", ", runs.Select(r => Fmt(r.PublishedPerSecond)))} | {Fmt(Median(runs, r => r.Rejected))} |");
            }
        }

        b.AppendLine();
        b.AppendLine("### Memory per idle subscriber connection (each subscribed on the hub)");
        b.AppendLine();
        b.AppendLine("| server | connections | RSS before | RSS connected | per connection |");
        b.AppendLine("|---|---:|---:|---:|---:|");
        foreach (var server in servers)
        {
            if (byKey.TryGetValue($"idle/{server}", out var runs))
            {
                b.AppendLine(C, $"| {server} | {Fmt(runs[0].Subscribers)} | {Median(runs, r => r.Server.RssBeforeKb) / 1024:F1} MiB | {Median(runs, r => r.Server.RssConnectedKb) / 1024:F1} MiB | {Median(runs, r => r.Server.BytesPerConnection) / 1024:F1} KiB |");
            }
        }

        b.AppendLine();
        b.AppendLine("### The issue's targets, met or missed");
        b.AppendLine();
        b.AppendLine("| target | server | measured | baseline | ratio | verdict |");
        b.AppendLine("|---|---|---:|---:|---:|---|");
        foreach (var target in Targets(byKey))
        {
            b.AppendLine(C, $"| {target.What} | {target.Server} | {target.Measured} | {target.Baseline} | {target.Ratio} | {(target.Met is null ? "not measured" : target.Met.Value ? "**met**" : "**missed**")} |");
        }

        return b.ToString();
    }

    /// <summary>The batch-size scenarios: 10 subscribers at max rate, batches of 10, 50 and 100 (the last is <c>s10</c>).</summary>
    internal static readonly (string Scenario, int Batch)[] BatchScenarios = [("b10", 10), ("b50", 50), ("s10", 100)];

    /// <summary>One row of the targets table.</summary>
    internal sealed record Target(string What, string Server, string Measured, string Baseline, string Ratio, bool? Met);

    /// <summary>Each target of the issue for each hub server that has the figures: met, missed, or not measured.</summary>
    internal static IEnumerable<Target> Targets(IReadOnlyDictionary<string, LoadReport[]> byKey)
    {
        double? Figure(string key, Func<LoadReport, double> figure) => byKey.TryGetValue(key, out var runs) ? Median(runs, figure) : null;
        static double PerClient(LoadReport r) => r.DeliveredPerSecond.Median;

        // Deliveries per client beside the baseline: the memory log 2× at 10 and 100, SQLite 1× at 10 and 2× at 100.
        foreach (var (server, n, factor) in new[] { ("hub-memory", 10, 2.0), ("hub-memory", 100, 2.0), ("hub-sqlite", 10, 1.0), ("hub-sqlite", 100, 2.0) })
        {
            var mine = Figure($"s{n}/{server}", PerClient);
            var theirs = Figure($"s{n}/baseline", PerClient);
            yield return new Target($"delivered/s per client at {n} subscribers ≥ {factor:0.#}× the baseline's", server,
                mine is { } m ? Fmt(m) : "–", theirs is { } t ? Fmt(t) : "–", mine is { } a && theirs is { } b ? Ratio(a, b) : "–",
                mine is { } x && theirs is { } y ? x >= factor * y : null);
        }

        // One stalled client: the others keep ≥ 95% of their unstalled rate.
        foreach (var server in new[] { "hub-memory", "hub-sqlite" })
        {
            foreach (var n in new[] { 10, 100 })
            {
                if (Figure($"s{n}/{server}", PerClient) is { } free && Figure($"s{n}-stalled/{server}", PerClient) is { } stalled)
                {
                    var baseline = Figure($"s{n}/baseline", PerClient) is { } bf && Figure($"s{n}-stalled/baseline", PerClient) is { } bs ? $"{bs / bf:P0} of its own" : "–";
                    yield return new Target($"{n} subscribers, one stalled: the others keep ≥ 95% of their rate", server, $"{stalled / free:P0} of its own", baseline, "–", stalled >= 0.95 * free);
                }
            }
        }

        // The publish request's cost: requests/s at batches of 10, at least the baseline's.
        foreach (var server in new[] { "hub-memory", "hub-sqlite" })
        {
            var mine = Figure($"b10/{server}", r => r.RequestsPerSecond);
            var theirs = Figure("b10/baseline", r => r.RequestsPerSecond);
            if (mine is not null || theirs is not null)
            {
                yield return new Target("requests/s at batches of 10 ≥ the baseline's", server, mine is { } m ? Fmt(m) : "–", theirs is { } t ? Fmt(t) : "–",
                    mine is { } a && theirs is { } b ? Ratio(a, b) : "–", mine is { } x && theirs is { } y ? x >= y : null);
            }
        }

        // p99 publish → receive at 2,000 events/s to 100 subscribers, at most 5 ms (SQLite), at the rate asked.
        {
            var p99 = Figure("lat2k/hub-sqlite", r => r.LatencyMs.P99);
            var reached = Figure("lat2k/hub-sqlite", r => r.PublishedPerSecond);
            var theirs = Figure("lat2k/baseline", r => r.LatencyMs.P99);
            yield return new Target("p99 publish → receive ≤ 5 ms at 2,000 events/s to 100 subscribers", "hub-sqlite",
                p99 is { } p ? $"{Ms(p)} at {Fmt(reached ?? 0)}/s" : "–", theirs is { } t ? Ms(t) : "–", "–", p99 is { } q ? q <= 5 && reached >= 1_900 : null);
        }

        // Under 30 KiB RSS per idle subscribed connection.
        foreach (var server in new[] { "hub-memory", "hub-sqlite" })
        {
            var mine = Figure($"idle/{server}", r => r.Server.BytesPerConnection);
            var theirs = Figure("idle/baseline", r => r.Server.BytesPerConnection);
            yield return new Target("RSS per idle subscribed connection < 30 KiB", server, mine is { } m ? $"{m / 1024:F1} KiB" : "–",
                theirs is { } t ? $"{t / 1024:F1} KiB (connect only)" : "–", "–", mine is { } x ? x < 30 * 1024 : null);
        }

        // Durable ingest over HTTP: at least 100,000 events/s (the default, and without fsync).
        foreach (var server in new[] { "hub-sqlite", "hub-sqlite-process" })
        {
            var mine = Figure($"ingest/{server}", r => r.PublishedPerSecond);
            yield return new Target("durable ingest over HTTP ≥ 100,000 events/s (8 publishers × 100)", server, mine is { } m ? Fmt(m) : "–", "–", "–", mine is { } x ? x >= 100_000 : null);
        }
    }

    private static string Ratio(double mine, double theirs) => theirs > 0 ? (mine / theirs).ToString("0.00", C) + "×" : "–";

    private static string Server(string label) => label[(label.IndexOf('/', StringComparison.Ordinal) + 1)..];

    private static string Describe(string scenario) => scenario switch
    {
        "s10" => "10 subscribers",
        "s10-stalled" => "10 subscribers, 1 of them stalled",
        "s100" => "100 subscribers",
        "s100-stalled" => "100 subscribers, 1 of them stalled",
        "b10" => "10 subscribers, batches of 10",
        "b50" => "10 subscribers, batches of 50",
        _ => scenario,
    };

    internal static double Median(IEnumerable<LoadReport> runs, Func<LoadReport, double> figure) =>
        Spread.Of(runs.Select(figure).ToArray()).Median;

    internal static string Fmt(double value) => value.ToString("N0", C);

    internal static string Ms(double value) => value.ToString(value < 10 ? "F2" : "F0", C) + " ms";
}
