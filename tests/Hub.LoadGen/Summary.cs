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
        var servers = reports.Select(r => Server(r.Label)).Distinct().ToArray();
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
        b.AppendLine("### Publish → receive latency at a fixed 10,000 events/s");
        b.AppendLine();
        b.AppendLine("| subscribers | server | runs | published/s reached | p50 | p99 | p99.9 | max | each run's p99 | peak RSS |");
        b.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (scenario, subscribers) in new[] { ("lat10", 10), ("lat", 100) })
        {
            foreach (var server in servers)
            {
                if (byKey.TryGetValue($"{scenario}/{server}", out var runs))
                {
                    b.AppendLine(C, $"| {subscribers} | {server} | {runs.Length} | {Fmt(Median(runs, r => r.PublishedPerSecond))} | {Ms(Median(runs, r => r.LatencyMs.P50))} | {Ms(Median(runs, r => r.LatencyMs.P99))} | {Ms(Median(runs, r => r.LatencyMs.P999))} | {Ms(Median(runs, r => r.LatencyMs.Max))} | {string.Join(", ", runs.Select(r => Ms(r.LatencyMs.P99)))} | {Median(runs, r => r.Server.PeakRssKb) / 1024:F0} MiB |");
                }
            }
        }

        b.AppendLine();
        b.AppendLine("### Memory per idle subscriber connection (1,000 connections, each subscribed on the hub)");
        b.AppendLine();
        b.AppendLine("| server | RSS before | RSS with 1,000 connections | per connection |");
        b.AppendLine("|---|---:|---:|---:|");
        foreach (var server in servers)
        {
            if (byKey.TryGetValue($"idle/{server}", out var runs))
            {
                b.AppendLine(C, $"| {server} | {Median(runs, r => r.Server.RssBeforeKb) / 1024:F1} MiB | {Median(runs, r => r.Server.RssConnectedKb) / 1024:F1} MiB | {Median(runs, r => r.Server.BytesPerConnection) / 1024:F1} KiB |");
            }
        }

        b.AppendLine();
        b.AppendLine("### The issue's end-to-end targets");
        b.AppendLine();
        double? Rate(string key) => byKey.TryGetValue(key, out var runs) ? Median(runs, r => r.DeliveredPerSecond.Median) : null;
        double? Published(string key) => byKey.TryGetValue(key, out var runs) ? Median(runs, r => r.PublishedPerSecond) : null;
        foreach (var hub in servers.Where(s => s.StartsWith("hub", StringComparison.Ordinal)))
        {
            foreach (var n in new[] { "s10", "s100" })
            {
                if (Rate($"{n}/{hub}") is { } mine && Rate($"{n}/baseline") is { } theirs)
                {
                    b.AppendLine(C, $"- {Verdict(mine >= theirs)} {hub}, {Describe(n)}: at least the baseline's deliveries/s: {Fmt(mine)} against {Fmt(theirs)} per client ({mine / theirs:P0}).");
                }

                if (Rate($"{n}/{hub}") is { } free && Rate($"{n}-stalled/{hub}") is { } stalled)
                {
                    var baseline = Published($"{n}/baseline") is { } bf && Published($"{n}-stalled/baseline") is { } bs
                        ? string.Create(C, $" (the baseline's publishers: {Fmt(bs)} against {Fmt(bf)} events/s, {bs / bf:P0})") : "";
                    b.AppendLine(C, $"- {Verdict(stalled >= 0.95 * free)} {hub}, {Describe(n)} plus one stalled: keeps ≥ 95% of its unstalled rate: {Fmt(stalled)} against {Fmt(free)} per client ({stalled / free:P0}){baseline}.");
                }
            }

            if (byKey.TryGetValue($"lat/{hub}", out var lat))
            {
                var p99 = Median(lat, r => r.LatencyMs.P99);
                var reached = Median(lat, r => r.PublishedPerSecond);
                b.AppendLine(C, $"- {Verdict(p99 < 5 && reached >= 9_500)} {hub}: p99 publish → receive under 5 ms at 10,000 events/s to 100 subscribers: p99 {Ms(p99)} at {Fmt(reached)} events/s reached.");
            }

            if (byKey.TryGetValue($"idle/{hub}", out var idle))
            {
                var perConnection = Median(idle, r => r.Server.BytesPerConnection);
                b.AppendLine(C, $"- {Verdict(perConnection < 30 * 1024)} {hub}: under 30 KB per idle subscriber connection: {perConnection / 1024:F1} KiB.");
            }
        }

        return b.ToString();
    }

    private static string Server(string label) => label[(label.IndexOf('/', StringComparison.Ordinal) + 1)..];

    private static string Describe(string scenario) => scenario switch
    {
        "s10" => "10 subscribers",
        "s10-stalled" => "10 subscribers, 1 of them stalled",
        "s100" => "100 subscribers",
        "s100-stalled" => "100 subscribers, 1 of them stalled",
        _ => scenario,
    };

    private static string Verdict(bool met) => met ? "**met**:" : "**missed**:";

    internal static double Median(IEnumerable<LoadReport> runs, Func<LoadReport, double> figure) =>
        Spread.Of(runs.Select(figure).ToArray()).Median;

    internal static string Fmt(double value) => value.ToString("N0", C);

    internal static string Ms(double value) => value.ToString(value < 10 ? "F2" : "F0", C) + " ms";
}
