using System.Text.Json;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests.Nodes;

/// <summary>
/// A node's loss (issue 14, part 5): three hub processes on one PostgreSQL database, one of them killed with SIGKILL
/// while events are being published through it and delivered by it. Nothing it acknowledged is lost; its publisher
/// sends what was unanswered to another node with the same ids and each event is in the log once; its subscriber
/// reconnects to another node and resumes with <c>after</c> (and the epoch) exactly once, in order.
/// </summary>
[Collection(NodesCollection.Name)]
public sealed class NodeKillTests : FreshPostgresDatabase
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A publishes 1,000 events and B 1,000 (batches of 20); the subscriber on B and a witness on C read everything.
    /// Once B's subscriber has some of it, B is killed: A is still publishing (it waits at its 40th batch until the kill,
    /// so events are published after it), and B's publisher, let go at the same moment, races the kill with its next
    /// batches and goes on on C. Then: every acknowledged event is in the log, under its acknowledged sequence; each id
    /// is there exactly once; B's subscriber, resumed on C after its last sequence, has the whole log once and in order,
    /// as the witness has.
    /// </summary>
    [Fact]
    public async Task NodeKilledMidStream_LosesNoAcknowledgedEvent_AndItsSubscriberResumesOnAnotherNodeExactlyOnce()
    {
        const int Batches = 50, Size = 20, A = 0, B = 1, C = 2;
        await using var nodes = await HubNodes.StartAsync(Database.ConnectionString, 3);
        await nodes.CheckAsync(async () =>
        {
            var onB = await nodes.ConnectAsync(B);
            var beforeKill = await onB.SubscribeAsync(new SubscribeArgs(["kill.>"], MaxDemand: 100_000));
            var witnessClient = await nodes.ConnectAsync(C);
            var witness = await witnessClient.SubscribeAsync(new SubscribeArgs(["kill.>"], MaxDemand: 100_000));
            Assert.Equal(0, beforeKill.Position);
            Assert.Equal(beforeKill.Epoch, witness.Epoch);

            var killing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var publisherA = new NodePublisher([nodes.Http(A)], "kill.a", "a");
            var publisherB = new NodePublisher([nodes.Http(B), nodes.Http(C)], "kill.b", "b");
            using var deadline = new CancellationTokenSource(Deadline);
            var publishing = Task.WhenAll(
                Task.Run(() => publisherA.RunAsync(Batches, Size, batch => batch == 40 ? killed.Task : Task.CompletedTask, deadline.Token)),
                Task.Run(() => publisherB.RunAsync(Batches, Size, batch => batch == 10 ? killing.Task : Task.CompletedTask, deadline.Token)));

            // Mid-stream: B's subscriber has received events, A has not finished publishing.
            await beforeKill.WaitForCountAsync(200, Deadline);
            killing.SetResult();
            await nodes.KillAsync(B);
            killed.SetResult();
            await onB.Closed.WaitAsync(Deadline);
            var received = beforeKill.Sequences;
            var last = beforeKill.LastSequence;
            Assert.True(beforeKill.Violations.Count == 0, string.Join("; ", beforeKill.Violations));

            // The client reconnects to another node and resumes after the last sequence it handled.
            var resumedClient = await nodes.ConnectAsync(C);
            var resumed = await resumedClient.SubscribeAsync(new SubscribeArgs(["kill.>"], After: last, Epoch: beforeKill.Epoch, MaxDemand: 100_000));
            Assert.Equal(last, resumed.Position);
            Assert.Equal(beforeKill.Epoch, resumed.Epoch);

            await publishing;
            Assert.True(publisherA.Violations.Count + publisherB.Violations.Count == 0, string.Join("; ", publisherA.Violations.Concat(publisherB.Violations)));
            Assert.True(publisherB.Broken > 0, "B's publisher never met the dead node"); // it moves to C only on a broken connection

            // A last event: once it is delivered, nothing else was on its way before it.
            var marker = await HubRest.PublishAsync(nodes.Http(A), new { topic = "kill.end", id = "marker" });
            var markerSequence = marker[0].GetProperty("sequence").GetInt64();
            await resumed.WaitUntilAsync(s => s.LastSequence >= markerSequence, Deadline, "the marker on the resumed subscription");
            await witness.WaitUntilAsync(s => s.LastSequence >= markerSequence, Deadline, "the marker on the witness");

            var log = await HubRest.ReadAllAsync(nodes.Http(A));
            var logged = log.Select(HubRest.Identity).ToList();
            Assert.Equal(markerSequence, logged[^1].Sequence);

            // No acknowledged event lost: each is in the log under the sequence it was acknowledged with.
            var bySequence = logged.ToDictionary(e => e.Sequence);
            foreach (var ack in publisherA.Acknowledged.Concat(publisherB.Acknowledged))
            {
                Assert.True(bySequence.TryGetValue(ack.Sequence, out var stored) && stored == (ack.Sequence, ack.Topic, ack.Id),
                    $"acknowledged {ack} is not in the log as acknowledged");
            }

            // Each id exactly once: what B had taken before it died, sent again to C, was recognised, not appended twice.
            var expectedIds = publisherA.Ids.Concat(publisherB.Ids).Append("marker").Order(StringComparer.Ordinal).ToList();
            Assert.Equal(2 * Batches * Size + 1, expectedIds.Count);
            Assert.Equal(expectedIds, logged.Select(e => e.Id).Order(StringComparer.Ordinal));

            // The subscriber: before the kill then after the resume = the whole log, once, in order; and so for the witness.
            Assert.True(resumed.Violations.Count == 0, string.Join("; ", resumed.Violations));
            Assert.Empty(resumed.Gaps);
            Assert.Equal(logged.Select(e => e.Sequence), received.Concat(resumed.Sequences));
            Assert.Equal(logged, beforeKill.Events.Concat(resumed.Events).Select(HubRest.Identity));
            Assert.True(witness.Violations.Count == 0, string.Join("; ", witness.Violations));
            Assert.Equal(logged, witness.Events.Select(HubRest.Identity));
            Assert.Null(witness.EndedReason);
        });
    }
}
