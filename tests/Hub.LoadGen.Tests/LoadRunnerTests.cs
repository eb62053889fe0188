using System.Net.Http.Json;

namespace Hub.LoadGen.Tests;

/// <summary>The load generator against real servers on Kestrel at 127.0.0.1, in short runs bounded by an event count:
/// its report must add up. No timing is asserted; the duration and drain are only upper bounds.</summary>
public sealed class LoadRunnerTests
{
    private static LoadOptions Bounded(Uri url, string target, int subscribers, int stalled, long events) => new()
    {
        Url = url,
        Target = target,
        Label = "test",
        Subscribers = subscribers,
        Stalled = stalled,
        Publishers = 2,
        Batch = 40,
        MaxEvents = events,
        Duration = TimeSpan.FromSeconds(60),
        Drain = TimeSpan.FromSeconds(60),
        MaxDemand = 100,
        MinDemand = 50,
        ServerPid = Environment.ProcessId,
    };

    [Fact]
    public async Task MaxRate_AgainstHub_DeliversEveryPublishedEventToEveryRegularSubscriber_BesideAStalledOne()
    {
        await using var hub = await RunningServer.StartHubAsync();

        var report = await LoadRunner.RunAsync(Bounded(hub.Address, "hub", subscribers: 5, stalled: 1, events: 600));

        Assert.Equal("max-rate", report.Mode);
        Assert.Equal(600, report.Published);
        Assert.Equal(15, report.Requests); // 600 events in batches of 40
        Assert.Equal(0, report.Rejected + report.FailedRequests + report.UnansweredRequests);
        Assert.Equal([600, 600, 600, 600], report.Delivered); // exactly once each: demand was re-asked as events were handled
        Assert.Equal(4, report.Complete);
        Assert.Single(report.DeliveredSlow);
        Assert.InRange(report.DeliveredSlow[0], 0, 600);
        Assert.Equal(report.Delivered.Sum() + report.DeliveredSlow.Sum(), report.LatencyMs.Count);
        Assert.True(report.LatencyMs.P50 <= report.LatencyMs.P99 && report.LatencyMs.P99 <= report.LatencyMs.P999 && report.LatencyMs.P999 <= report.LatencyMs.Max);
        Assert.True(report.DeliveredPerSecond.Min > 0 && report.DeliveredPerSecond.Min <= report.DeliveredPerSecond.Median && report.DeliveredPerSecond.Median <= report.DeliveredPerSecond.Max);
        Assert.True(report.Server.PeakRssKb > 0, "the server's memory is read from /proc");
        Assert.Equal(0, report.ClientFailures);
    }

    [Fact]
    public async Task MaxRate_AgainstBaseline_DeliversEveryPublishedEventToEverySubscriber()
    {
        await using var baseline = await RunningServer.StartBaselineAsync();

        var report = await LoadRunner.RunAsync(Bounded(baseline.Address, "baseline", subscribers: 3, stalled: 0, events: 400));

        Assert.Equal(400, report.Published);
        Assert.Equal(0, report.Rejected + report.FailedRequests + report.UnansweredRequests);
        Assert.Equal([400, 400, 400], report.Delivered);
        Assert.Equal(3, report.Complete);
        Assert.Empty(report.DeliveredSlow);
        Assert.Null(report.DeliveredPerSecondSlow);
        Assert.Equal(1200, report.LatencyMs.Count);
        Assert.Equal(0, report.ClientFailures);
    }

    [Fact]
    public async Task FixedRate_AgainstHub_PublishesTheCapAndTheJsonLineRoundTrips()
    {
        await using var hub = await RunningServer.StartHubAsync();
        var options = Bounded(hub.Address, "hub", subscribers: 2, stalled: 0, events: 200) with { Rate = 2_000, Publishers = 1 };

        var report = await LoadRunner.RunAsync(options);

        Assert.Equal("fixed-rate", report.Mode);
        Assert.Equal(200, report.Published);
        Assert.Equal([200, 200], report.Delivered);
        var line = report.ToJson();
        Assert.DoesNotContain('\n', line);
        var back = LoadReport.FromJson(line);
        Assert.Equal(report.Delivered, back.Delivered);
        Assert.Equal(report.LatencyMs, back.LatencyMs);
        Assert.Contains("2 of 2 regular got every event", report.ToTable(), StringComparison.Ordinal);
    }

    /// <summary>Ingest alone (<c>--subscribers 0</c>): only publishers, each POST counted, requests per second reported.</summary>
    [Fact]
    public async Task NoSubscribers_AgainstHub_MeasuresIngestAlone_AndTheLogHoldsEveryEvent()
    {
        await using var hub = await RunningServer.StartHubAsync();
        var options = Bounded(hub.Address, "hub", subscribers: 0, stalled: 0, events: 300) with { Batch = 10, PayloadBytes = 150 };

        var report = await LoadRunner.RunAsync(options);

        Assert.Equal(300, report.Published);
        Assert.Equal(30, report.Requests);
        Assert.InRange(report.RequestsPerSecond * report.Seconds, 29.5, 30.5); // 30 requests over the window (both rounded)
        Assert.Empty(report.Delivered);
        Assert.Equal(0, report.LatencyMs.Count);
        Assert.Equal(0, report.Server.BytesPerConnection);
        Assert.Equal(report.RequestsPerSecond, LoadReport.FromJson(report.ToJson()).RequestsPerSecond);
        using var http = new HttpClient { BaseAddress = hub.Address };
        var page = await http.GetFromJsonAsync<System.Text.Json.JsonElement>("api/events?limit=1000");
        var events = page.GetProperty("events").EnumerateArray().ToArray();
        Assert.Equal(300, events.Length);
        Assert.All(events, e => Assert.Equal(new string('x', 150), e.GetProperty("data").GetProperty("pad").GetString()));
    }

    [Fact]
    public async Task Idle_AgainstHub_ConnectsAndSubscribesEveryoneAndPublishesNothing()
    {
        await using var hub = await RunningServer.StartHubAsync();
        var options = Bounded(hub.Address, "hub", subscribers: 20, stalled: 0, events: 0) with { Idle = true, Settle = TimeSpan.FromMilliseconds(100) };

        var report = await LoadRunner.RunAsync(options);

        Assert.Equal("idle", report.Mode);
        Assert.Equal(0, report.Published);
        Assert.Equal(20, report.Delivered.Length);
        Assert.All(report.Delivered, d => Assert.Equal(0, d));
        Assert.True(report.Server.RssBeforeKb > 0 && report.Server.RssConnectedKb > 0);
        Assert.Equal(0, report.ClientFailures);
    }

    /// <summary>Several nodes: publishers and subscribers go where <c>--publish-on</c> and <c>--subscribe-on</c> say. Two
    /// hubs with logs of their own (not one shared log), so an event that went to the wrong one could not arrive.</summary>
    [Fact]
    public async Task SeveralNodes_PublishersAndSubscribersGoToTheNodesNamed()
    {
        await using var a = await RunningServer.StartHubAsync();
        await using var b = await RunningServer.StartHubAsync();
        var options = Bounded(a.Address, "hub", subscribers: 3, stalled: 0, events: 200) with { Nodes = [a.Address, b.Address], PublishOn = [1], SubscribeOn = [1] };

        var report = await LoadRunner.RunAsync(options);

        Assert.Equal(200, report.Published);
        Assert.Equal([200, 200, 200], report.Delivered);
        Assert.Equal(2, report.Nodes);
        Assert.Equal("publishers on B, subscribers on B", report.Placement);
        using var http = new HttpClient { BaseAddress = a.Address };
        Assert.Equal("[]", (await http.GetFromJsonAsync<System.Text.Json.JsonElement>("api/events")).GetProperty("events").GetRawText());
    }

    [Fact]
    public void Parse_ReadsTheCommandLine_AndRejectsWhatCannotRun()
    {
        var o = LoadOptions.Parse(["--url", "http://127.0.0.1:9/", "--target", "baseline", "--subscribers", "100", "--stalled", "1", "--rate", "10000", "--duration", "2.5", "--server-pid", "42"]);
        Assert.Equal(new Uri("http://127.0.0.1:9/"), o.Url);
        Assert.Equal(99, o.Regular);
        Assert.Equal(TimeSpan.FromSeconds(2.5), o.Duration);
        Assert.Equal(42, o.ServerPid);
        Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["--subscribers", "2", "--stalled", "3"]));
        Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["--target", "nats"]));
        Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["--min-demand", "10", "--max-demand", "10"]));
        Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["--bogus"]));
        Assert.Equal(0, LoadOptions.Parse(["--subscribers", "0"]).Subscribers);
        Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["--subscribers", "0", "--idle"]));

        var nodes = LoadOptions.Parse(["--publish-on", "all", "--url", "http://127.0.0.1:1,http://127.0.0.1:2/,http://127.0.0.1:3", "--subscribe-on", "1,2", "--publishers", "4", "--subscribers", "3"]);
        Assert.Equal([new Uri("http://127.0.0.1:1/"), new Uri("http://127.0.0.1:2/"), new Uri("http://127.0.0.1:3/")], nodes.Nodes);
        Assert.Equal(new Uri("http://127.0.0.1:1/"), nodes.Url);
        Assert.Equal([1, 2, 3, 1], Enumerable.Range(0, 4).Select(i => nodes.PublisherNode(i).Port));
        Assert.Equal([2, 3, 2], Enumerable.Range(0, 3).Select(i => nodes.SubscriberNode(i).Port));
        Assert.Equal("publishers on A, B, C, subscribers on B, C", nodes.Placement);
        Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["--url", "http://127.0.0.1:1,http://127.0.0.1:2", "--publish-on", "2"]));
    }

    [Fact]
    public void LatencyHistogram_PercentilesLieWithinOnePercentOfTheRecordedValues()
    {
        var h = new LatencyHistogram();
        for (long v = 1; v <= 100_000; v++)
        {
            h.Record(v * 1_000); // 1 µs … 100 ms, uniform
        }

        Assert.Equal(100_000, h.Count);
        Assert.InRange(h.ValueAt(50), 50_000_000 * 0.99, 50_000_000 * 1.01);
        Assert.InRange(h.ValueAt(99), 99_000_000 * 0.99, 99_000_000 * 1.01);
        Assert.InRange(h.ValueAt(99.9), 99_900_000 * 0.99, 99_900_000 * 1.01);
        Assert.Equal(100_000_000, h.ValueAt(100));
        Assert.Equal(100_000_000, h.Max);
    }

    [Fact]
    public void LatencyHistogram_BucketsAreContiguousAndCoverTheirValues()
    {
        for (long v = 0; v < 1 << 16; v++)
        {
            var index = LatencyHistogram.IndexOf(v);
            Assert.True(LatencyHistogram.UpperBoundOf(index) >= v);
            Assert.True(index == 0 || LatencyHistogram.UpperBoundOf(index - 1) < v);
        }
    }
}
