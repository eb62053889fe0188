using System.Globalization;
using System.Text;

namespace Hub.LoadGen;

/// <summary>
/// Turns a folder of reports from <c>./bench.sh --nodes</c> (labelled <c>scenario/setup</c>, the setup being
/// <c>sqlite-1</c> or <c>pg-N</c> for N nodes on one PostgreSQL log) into the Markdown tables of
/// <c>docs/benchmarks-nodes.md</c>: delivered events/s end to end with 1, 2 and 3 nodes, as ratios beside SQLite's
/// single node, and publish → receive latency at a fixed rate, publisher on node A and subscribers on node B.
/// </summary>
internal static class NodesSummary
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>The max-rate scenarios: publishers on the first node, or spread over every node.</summary>
    private static readonly (string Scenario, string Publishers)[] Throughput = [("one", "node A"), ("all", "every node")];

    public static string Write(string folder)
    {
        var reports = Directory.EnumerateFiles(folder, "*.json").Order(StringComparer.Ordinal)
            .Select(f => File.ReadAllText(f).Trim()).Where(t => t.StartsWith('{'))
            .Select(LoadReport.FromJson).ToArray();
        var byKey = reports.GroupBy(r => r.Label).ToDictionary(g => g.Key, g => g.ToArray());
        var setups = reports.Select(r => Setup(r.Label)).Distinct().OrderBy(s => s.StartsWith("pg", StringComparison.Ordinal)).ThenBy(s => s, StringComparer.Ordinal).ToArray();
        var b = new StringBuilder();

        b.AppendLine("### Delivered events/s end to end, 1 to 3 nodes (max rate, medians over the runs)");
        b.AppendLine();
        b.AppendLine("| publishers on | setup | runs | published/s | delivered/s, all subscribers | × SQLite, one node | per subscriber: median (min–max) | every event to every subscriber | rejected (503/429) |");
        b.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (scenario, publishers) in Throughput)
        {
            var reference = byKey.TryGetValue($"{scenario}/sqlite-1", out var sqlite) ? Median(sqlite, r => r.DeliveredPerSecondTotal) : (double?)null;
            foreach (var setup in setups)
            {
                if (!byKey.TryGetValue($"{scenario}/{setup}", out var runs))
                {
                    continue;
                }

                var total = Median(runs, r => r.DeliveredPerSecondTotal);
                var ratio = reference is > 0 ? (total / reference.Value).ToString("F2", C) : "–";
                b.AppendLine(C, $"| {publishers} | {Describe(setup)} | {runs.Length} | {Fmt(Median(runs, r => r.PublishedPerSecond))} | {Fmt(total)} | {ratio} | {Fmt(Median(runs, r => r.DeliveredPerSecond.Median))} ({Fmt(Median(runs, r => r.DeliveredPerSecond.Min))}–{Fmt(Median(runs, r => r.DeliveredPerSecond.Max))}) | {runs.Count(r => r.Complete == r.Delivered.Length)} of {runs.Length} runs | {Fmt(Median(runs, r => r.Rejected))} |");
            }
        }

        b.AppendLine();
        b.AppendLine("### Publish → receive latency at a fixed rate (medians over the runs)");
        b.AppendLine();
        b.AppendLine("| setup | where | runs | rate asked | published/s reached | p50 | p99 | p99.9 | max | each run's p99 | every event to every subscriber |");
        b.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var setup in setups)
        {
            if (byKey.TryGetValue($"latency/{setup}", out var runs))
            {
                b.AppendLine(C, $"| {Describe(setup)} | {runs[0].Placement ?? "one node"} | {runs.Length} | {Fmt(runs[0].Rate)} | {Fmt(Median(runs, r => r.PublishedPerSecond))} | {Ms(Median(runs, r => r.LatencyMs.P50))} | {Ms(Median(runs, r => r.LatencyMs.P99))} | {Ms(Median(runs, r => r.LatencyMs.P999))} | {Ms(Median(runs, r => r.LatencyMs.Max))} | {string.Join(", ", runs.Select(r => Ms(r.LatencyMs.P99)))} | {runs.Count(r => r.Complete == r.Delivered.Length)} of {runs.Length} runs |");
            }
        }

        if (byKey.TryGetValue("latency/pg-2", out var crossNode))
        {
            var p99 = Median(crossNode, r => r.LatencyMs.P99);
            var reached = Median(crossNode, r => r.PublishedPerSecond);
            b.AppendLine();
            b.AppendLine(C, $"- {(p99 < 20 && reached >= 0.95 * crossNode[0].Rate ? "**met**" : "**missed**")}: p99 publish-on-A → receive-on-B under 20 ms at {Fmt(crossNode[0].Rate)} events/s: p99 {Ms(p99)} at {Fmt(reached)} events/s reached.");
        }

        return b.ToString();
    }

    private static string Setup(string label) => label[(label.IndexOf('/', StringComparison.Ordinal) + 1)..];

    private static string Describe(string setup) => setup switch
    {
        "sqlite-1" => "SQLite, 1 node",
        _ when setup.StartsWith("pg-", StringComparison.Ordinal) => $"PostgreSQL, {setup[3..]} node{(setup[3..] == "1" ? "" : "s")}",
        _ => setup,
    };

    private static double Median(IEnumerable<LoadReport> runs, Func<LoadReport, double> figure) => Summary.Median(runs, figure);

    private static string Fmt(double value) => Summary.Fmt(value);

    private static string Ms(double value) => Summary.Ms(value);
}
