using System.Net;
using System.Text.Json;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests.Nodes;

/// <summary>
/// PostgreSQL's loss (issue 14, part 5): two hub nodes on a PostgreSQL cluster of the test's own (stopping the one the
/// rest of the suite shares would fail other tests), stopped at once (<c>pg_ctl -m immediate</c>, as a crash) while both
/// nodes take publishes, and started again. While it is down: every publish answers 503 with <c>Retry-After</c> and
/// appends nothing, and <c>/health/ready</c> answers 503 on every node (<c>/health/live</c> stays 200: a restart would
/// not help). When it returns, every node becomes ready and takes publishes again by itself, nothing restarted; no
/// acknowledged event is lost, no sequence is given twice, and the subscribers on both nodes, never resubscribed, have
/// the whole log in order.
/// </summary>
[Collection(NodesCollection.Name)]
public sealed class PostgresOutageTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private PostgresCluster? _cluster;
    private PostgresDatabase? _database;

    private PostgresCluster Cluster => _cluster!;

    public async Task InitializeAsync()
    {
        _cluster = await PostgresCluster.StartOwnAsync();
        _database = await _cluster.CreateDatabaseAsync();
    }

    public async Task DisposeAsync()
    {
        // The database goes with its cluster (stopped and removed), even when a failed test left the server stopped.
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    /// <summary>
    /// Publishers on A and B (60 batches of 20 each, every batch retried with its ids until acknowledged) and a subscriber
    /// on each node. After 15 batches each, PostgreSQL stops; the publishers are refused, a publish on each node answers
    /// 503 with Retry-After, and readiness turns 503 on both; PostgreSQL starts again; both nodes are ready again and the
    /// publishers finish.
    /// </summary>
    [Fact]
    public async Task PostgresStoppedUnderLoad_Answers503AndNotReadyOnEveryNode_ThenEveryNodeRecoversByItself_LosingNothing()
    {
        const int Batches = 60, Size = 20;
        await using var nodes = await HubNodes.StartAsync(_database!.ConnectionString, 2);
        await nodes.CheckAsync(async () =>
        {
            var subscriptions = new List<SubscriptionLog>();
            for (var node = 0; node < nodes.Count; node++)
            {
                var client = await nodes.ConnectAsync(node);
                subscriptions.Add(await client.SubscribeAsync(new SubscribeArgs(["outage.>"], MaxDemand: 100_000)));
            }

            var publishers = new[]
            {
                new NodePublisher([nodes.Http(0)], "outage.a", "a"),
                new NodePublisher([nodes.Http(1)], "outage.b", "b"),
            };
            using var deadline = new CancellationTokenSource(Deadline);
            // Each publisher waits at its 30th batch until PostgreSQL is down, so that both publish into the outage however
            // fast they are; the stop comes once both have 15 batches acknowledged, while they are publishing.
            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var publishing = Task.WhenAll(publishers.Select(p => Task.Run(() =>
                p.RunAsync(Batches, Size, batch => batch == 30 ? stopped.Task : Task.CompletedTask, deadline.Token))));
            string State() => string.Join("; ", publishers.Select((p, i) =>
                $"publisher {HubNodes.Name(i)}: {p.Batches} batches, {p.Refused} refused, {p.Broken} broken, violations [{string.Join(", ", p.Violations)}]"));

            await Eventually.TrueAsync(() => publishers.All(p => p.Batches >= 15), "15 batches acknowledged on each node", Deadline);
            var refusedBefore = publishers.Select(p => p.Refused).ToArray();
            await Cluster.StopAsync();
            stopped.SetResult();

            // Each publisher is refused (its batch is then tried again and again, and must be refused every time while the
            // server is down: nothing is acknowledged from here until it returns).
            await Eventually.TrueAsync(() => publishers.Select((p, i) => p.Refused > refusedBefore[i]).All(x => x), $"both publishers refused once PostgreSQL is down ({State()})", Deadline);
            var acknowledgedBefore = publishers.Sum(p => p.Acknowledged.Count);

            // A publish on each node is refused (and appends nothing: checked at the end); readiness turns 503, liveness not.
            var probes = new List<string>();
            for (var node = 0; node < nodes.Count; node++)
            {
                var http = nodes.Http(node);
                var probe = $"probe-{HubNodes.Name(node)}";
                probes.Add(probe);
                using var refused = await http.PostAsync("api/events", TestHub.Json(new[] { new { topic = "outage.probe", id = probe } }));
                var problem = await refused.Content.ReadAsStringAsync();
                Assert.True(refused.StatusCode == HttpStatusCode.ServiceUnavailable, $"node {HubNodes.Name(node)} answered {(int)refused.StatusCode} with PostgreSQL down: {problem}");
                Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"node {HubNodes.Name(node)}: no Retry-After on its 503");
                Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
                Assert.StartsWith("log: ", JsonDocument.Parse(problem).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
                await Eventually.TrueAsync(async () => (await http.GetAsync("health/ready")).StatusCode == HttpStatusCode.ServiceUnavailable,
                    $"node {HubNodes.Name(node)} not ready with PostgreSQL down", Deadline);
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health/live")).StatusCode);
            }

            var refusedMeanwhile = publishers.Select(p => p.Refused).ToArray();
            await Eventually.TrueAsync(() => publishers.Select((p, i) => p.Refused > refusedMeanwhile[i]).All(x => x), $"both publishers still refused ({State()})", Deadline);
            Assert.Equal(acknowledgedBefore, publishers.Sum(p => p.Acknowledged.Count));

            await Cluster.StartAsync();

            // Every node recovers by itself: ready again, and the publishers' retried batches are taken.
            for (var node = 0; node < nodes.Count; node++)
            {
                var http = nodes.Http(node);
                await Eventually.TrueAsync(async () => (await http.GetAsync("health/ready")).StatusCode == HttpStatusCode.OK,
                    $"node {HubNodes.Name(node)} ready again once PostgreSQL is back", Deadline);
            }

            await publishing;
            Assert.All(publishers, p => Assert.True(p.Violations.Count == 0, string.Join("; ", p.Violations)));
            Assert.All(publishers, p => Assert.Equal(0, p.Broken));

            var marker = await HubRest.PublishAsync(nodes.Http(1), new { topic = "outage.end", id = "marker" });
            var markerSequence = marker[0].GetProperty("sequence").GetInt64();
            foreach (var subscription in subscriptions)
            {
                await subscription.WaitUntilAsync(s => s.LastSequence >= markerSequence, Deadline, "the marker");
            }

            var log = (await HubRest.ReadAllAsync(nodes.Http(0))).Select(HubRest.Identity).ToList();
            Assert.Equal(log, (await HubRest.ReadAllAsync(nodes.Http(1))).Select(HubRest.Identity));
            Assert.Equal(markerSequence, log[^1].Sequence);

            // No acknowledged event lost, and no sequence given twice: every 202 names an event the log holds under that
            // sequence, the log's sequences strictly increase, and two acknowledgements of one sequence name one event.
            var bySequence = log.ToDictionary(e => e.Sequence);
            var acknowledged = publishers.SelectMany(p => p.Acknowledged).ToList();
            foreach (var ack in acknowledged)
            {
                Assert.True(bySequence.TryGetValue(ack.Sequence, out var stored) && stored == (ack.Sequence, ack.Topic, ack.Id),
                    $"acknowledged {ack} is not in the log as acknowledged");
            }

            Assert.All(acknowledged.GroupBy(a => a.Sequence), g => Assert.Single(g.Select(a => a.Id).Distinct()));
            Assert.True(log.Zip(log.Skip(1)).All(pair => pair.First.Sequence < pair.Second.Sequence), "the log's sequences do not strictly increase");

            // Each id once (a batch whose commit was cut may have been stored before its 503: its retry found it), and the
            // refused probes not at all.
            var expectedIds = publishers.SelectMany(p => p.Ids).Append("marker").Order(StringComparer.Ordinal).ToList();
            Assert.Equal(2 * Batches * Size + 1, expectedIds.Count);
            Assert.Equal(expectedIds, log.Select(e => e.Id).Order(StringComparer.Ordinal));
            Assert.DoesNotContain(log, e => probes.Contains(e.Id));

            // The subscribers rode it out on their nodes: the whole log, in order, once, never ended.
            foreach (var subscription in subscriptions)
            {
                Assert.True(subscription.Violations.Count == 0, string.Join("; ", subscription.Violations));
                Assert.Empty(subscription.Gaps);
                Assert.Null(subscription.EndedReason);
                Assert.Equal(log, subscription.Events.Select(HubRest.Identity));
            }
        });
    }

    /// <summary>
    /// A subscriber replaying from the database (its <c>after</c> lies before the node's memory tail) when PostgreSQL
    /// stops: it waits where it is, never ended, and reads on by itself when PostgreSQL returns, receiving the whole
    /// replay in order, once, without a gap.
    /// </summary>
    [Fact]
    public async Task SubscriberReplayingFromTheDatabase_WhenPostgresStops_WaitsAndReadsOnWhenItReturns()
    {
        const int Events = 400;
        // A tail of 16 events: the replay from the start must read the database.
        await using var nodes = await HubNodes.StartAsync(_database!.ConnectionString, 1, new Dictionary<string, string> { ["Hub:Log:Postgres:TailEvents"] = "16" });
        await using var client = await nodes.ConnectAsync(0);
        await nodes.CheckAsync(async () =>
        {
            var published = new List<long>();
            for (var i = 0; i < Events; i += 100)
            {
                var answer = await HubRest.PublishAsync(nodes.Http(0), Enumerable.Range(i, 100).Select(n => new { topic = "replay.x", id = $"e{n}" }).ToArray());
                published.AddRange(answer.Select(e => e.GetProperty("sequence").GetInt64()));
            }

            await Cluster.StopAsync();
            // Ten events at a time, asked for one batch after another: the replay is still reading the database when it stops.
            var replay = await client.SubscribeAsync(new SubscribeArgs(["replay.>"], After: 0, Demand: "manual"));
            await client.AskAsync(replay, 10);
            await Eventually.TrueAsync(async () => (await nodes.Http(0).GetAsync("health/ready")).StatusCode == HttpStatusCode.ServiceUnavailable,
                "the node not ready with PostgreSQL down", Deadline);
            await client.AskAsync(replay, Events - 10);

            await Cluster.StartAsync();
            await replay.WaitForCountAsync(Events, Deadline);
            Assert.Equal(published, replay.Sequences);
            Assert.Equal(Enumerable.Range(0, Events).Select(n => $"e{n}"), replay.Events.Select(e => e.GetProperty("id").GetString()));
            Assert.Empty(replay.Gaps);
            Assert.Null(replay.EndedReason);
            Assert.Empty(replay.Violations);
            Assert.Contains("cannot read the log now", nodes[0].Output, StringComparison.Ordinal); // said, not silent
        });
    }
}
