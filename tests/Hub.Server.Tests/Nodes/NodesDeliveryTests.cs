using System.Net.Http.Json;
using System.Text.Json;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests.Nodes;

/// <summary>
/// Every node delivers everything (issue 14, part 3): three hub processes on one PostgreSQL database; what is published
/// on any of them reaches the subscribers of all of them in one order, with the same sequences and the same envelopes,
/// and the REST reads (<c>GET /api/events</c>, <c>GET /api/topics</c>) answer the same on every node.
/// </summary>
[Collection(NodesCollection.Name)]
public sealed class NodesDeliveryTests : FreshPostgresDatabase
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Two publishers at once, one on A and one on B (1,000 events each, in batches of 25); one subscriber on each of A, B
    /// and C, subscribed before the first publish. Each subscriber receives exactly the acknowledged events: the same
    /// sequence list on all three, in order, nothing missing, nothing repeated, byte-identical envelopes; every node's
    /// log read and topic counts are the same, and they are the acknowledgements'.
    /// </summary>
    [Fact]
    public async Task PublishOnTwoNodesAtOnce_SubscribersOnThreeNodesSeeTheSameSequences_AndReadsAgree()
    {
        const int Batches = 40, Size = 25;
        await using var nodes = await HubNodes.StartAsync(Database.ConnectionString, 3);
        await nodes.CheckAsync(async () =>
        {
            var subscriptions = new List<SubscriptionLog>();
            for (var node = 0; node < nodes.Count; node++)
            {
                var client = await nodes.ConnectAsync(node);
                subscriptions.Add(await client.SubscribeAsync(new SubscribeArgs(["nodes.>"], MaxDemand: 100_000)));
            }

            // One log: the same head and the same epoch, whichever node is asked.
            Assert.All(subscriptions, s => Assert.Equal(0, s.Position));
            Assert.Single(subscriptions.Select(s => s.Epoch).Distinct());
            Assert.False(string.IsNullOrEmpty(subscriptions[0].Epoch));

            var onA = new NodePublisher([nodes.Http(0)], "nodes.a", "a");
            var onB = new NodePublisher([nodes.Http(1)], "nodes.b", "b");
            using (var deadline = new CancellationTokenSource(Deadline))
            {
                await Task.WhenAll(
                    Task.Run(() => onA.RunAsync(Batches, Size, cancellationToken: deadline.Token)),
                    Task.Run(() => onB.RunAsync(Batches, Size, cancellationToken: deadline.Token)));
            }

            Assert.Empty(onA.Violations);
            Assert.Empty(onB.Violations);
            Assert.Equal(0, onA.Refused + onA.Broken + onB.Refused + onB.Broken);
            var acknowledged = onA.Acknowledged.Concat(onB.Acknowledged).OrderBy(a => a.Sequence).ToList();
            Assert.Equal(2 * Batches * Size, acknowledged.Select(a => a.Sequence).Distinct().Count());
            Assert.Equal(onA.Ids.Concat(onB.Ids).Order(StringComparer.Ordinal), acknowledged.Select(a => a.Id).Order(StringComparer.Ordinal));
            // Each publisher's events are in the order it published them (a node cannot reorder one client's appends).
            Assert.Equal(onA.Ids, onA.Acknowledged.OrderBy(a => a.Sequence).Select(a => a.Id));
            Assert.Equal(onB.Ids, onB.Acknowledged.OrderBy(a => a.Sequence).Select(a => a.Id));

            foreach (var (subscription, node) in subscriptions.Select((s, i) => (s, i)))
            {
                await subscription.WaitForCountAsync(acknowledged.Count, Deadline);
                Assert.True(subscription.Violations.Count == 0, $"node {HubNodes.Name(node)}: {string.Join("; ", subscription.Violations)}");
                Assert.Empty(subscription.Gaps);
                Assert.Null(subscription.EndedReason);
                Assert.Equal(acknowledged.Select(a => (a.Sequence, a.Topic, a.Id)), subscription.Events.Select(HubRest.Identity));
            }

            // The same envelopes, byte for byte, from every node (the time and data a node built must be the store's).
            var envelopes = subscriptions.Select(s => s.Events.Select(e => e.GetRawText()).ToList()).ToList();
            Assert.Equal(envelopes[0], envelopes[1]);
            Assert.Equal(envelopes[0], envelopes[2]);
            Assert.All(nodes.Connections, c => Assert.Empty(c.Unexpected));

            // The REST reads agree: the log, page by page, and the topics' counts.
            var reads = new List<List<string>>();
            var topics = new List<string>();
            for (var node = 0; node < nodes.Count; node++)
            {
                var http = nodes.Http(node);
                var read = await HubRest.ReadAllAsync(http);
                Assert.Equal(acknowledged.Select(a => (a.Sequence, a.Topic, a.Id)), read.Select(HubRest.Identity));
                reads.Add(read.Select(e => e.GetRawText()).ToList());
                var listed = await http.GetFromJsonAsync<JsonElement>("api/topics");
                topics.Add(string.Join("\n", listed.EnumerateArray().Select(t => t.GetRawText()).Order(StringComparer.Ordinal)));
            }

            Assert.Equal(reads[0], reads[1]);
            Assert.Equal(reads[0], reads[2]);
            Assert.Equal(envelopes[0], reads[0]);
            var expectedTopics = string.Join("\n", acknowledged.GroupBy(a => a.Topic)
                .Select(g => JsonSerializer.Serialize(new { topic = g.Key, count = g.LongCount(), lastSequence = g.Max(a => a.Sequence) }))
                .Order(StringComparer.Ordinal));
            Assert.All(topics, t => Assert.Equal(expectedTopics, t));
        });
    }

    /// <summary>
    /// A position learnt on another node is this log's, even when this node's feed has not brought it yet: right after a
    /// 202 on A, B reads <c>after</c> that sequence (200, not 409 "the log was reset"); right after another, a subscriber
    /// on B resumes after it (with the epoch; its position answered as asked) and receives the next event, and nothing
    /// else. Twenty rounds, each racing B's feed twice (without <c>IEventLog.ReachAsync</c>, most were refused).
    /// </summary>
    [Fact]
    public async Task ASequenceAnsweredOnAnotherNode_IsAPositionInThisLog_NotAReset()
    {
        await using var nodes = await HubNodes.StartAsync(Database.ConnectionString, 2);
        await nodes.CheckAsync(async () =>
        {
            var a = nodes.Http(0);
            var b = nodes.Http(1);
            await using var client = await nodes.ConnectAsync(1);
            string? epoch = null;
            for (var round = 0; round < 20; round++)
            {
                var first = (await HubRest.PublishAsync(a, new { topic = $"race.{round}", id = "first" }))[0].GetProperty("sequence").GetInt64();
                using (var read = await b.GetAsync($"api/events?after={first}"))
                {
                    var text = await read.Content.ReadAsStringAsync();
                    Assert.True(read.IsSuccessStatusCode, $"round {round}: GET after={first} on B answered {(int)read.StatusCode}: {text}");
                    using var page = JsonDocument.Parse(text);
                    Assert.Equal("[]", page.RootElement.GetProperty("events").GetRawText());
                    epoch ??= page.RootElement.GetProperty("epoch").GetString();
                }

                var second = (await HubRest.PublishAsync(a, new { topic = $"race.{round}", id = "second" }))[0].GetProperty("sequence").GetInt64();
                var resumed = await client.SubscribeAsync(new SubscribeArgs([$"race.{round}"], After: second, Epoch: epoch, MaxDemand: 10));
                Assert.Equal(second, resumed.Position);
                var third = (await HubRest.PublishAsync(a, new { topic = $"race.{round}", id = "third" }))[0].GetProperty("sequence").GetInt64();
                await resumed.WaitUntilAsync(s => s.LastSequence >= third, Deadline, "the third event");
                Assert.Equal([(third, $"race.{round}", "third")], resumed.Events.Select(HubRest.Identity));
                Assert.Empty(resumed.Violations);
            }
        });
    }
}
