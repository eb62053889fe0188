using System.Diagnostics;
using System.Text.Json;
using Hub.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Hub.Server.Tests.Nodes;

/// <summary>
/// Groups span nodes (issue 14, part 4): hub processes on one PostgreSQL database, members of one group on different
/// nodes. The group's partitions are leased to the nodes in the database; each node hands its partitions' events to its
/// own members. The members share the events as on one node; a node's loss, or its last member's leaving, hands its
/// partitions to the other node, which redelivers what was unacknowledged, marked.
/// </summary>
[Collection(NodesCollection.Name)]
public sealed class NodesGroupTests(ITestOutputHelper output) : FreshPostgresDatabase
{
    private const int A = 0, B = 1, Window = 50;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static bool IsRedelivered(JsonElement e) => e.TryGetProperty("redelivered", out var r) && r.GetBoolean();

    private static long SequenceOf(JsonElement e) => e.GetProperty("sequence").GetInt64();

    /// <summary>
    /// A demand group with a member on A and one on B, both acknowledging what they get. Once each has had an event (each
    /// node holds a share of the partitions), A and B publish 1,000 events each at once: the members' deliveries together
    /// are exactly the log's events, none twice and none marked redelivered (nothing failed), and both had a share.
    /// </summary>
    [Fact]
    public async Task DemandGroup_MembersOnTwoNodes_ShareEveryEventExactlyOnce()
    {
        await using var nodes = await HubNodes.StartAsync(Database.ConnectionString, 2);
        await nodes.CheckAsync(async () =>
        {
            var members = await MemberOnEachNodeAsync(nodes, new SubscribeArgs(["work.>"], MaxDemand: 200, Group: "shared", Dispatch: "demand"));

            await WarmUpAsync(nodes, members, "work.warm");
            var onA = new NodePublisher([nodes.Http(A)], "work.a", "a");
            var onB = new NodePublisher([nodes.Http(B)], "work.b", "b");
            using (var deadline = new CancellationTokenSource(Deadline))
            {
                await Task.WhenAll(
                    Task.Run(() => onA.RunAsync(50, 20, cancellationToken: deadline.Token)),
                    Task.Run(() => onB.RunAsync(50, 20, cancellationToken: deadline.Token)));
            }

            Assert.Empty(onA.Violations.Concat(onB.Violations));
            var acknowledged = onA.Acknowledged.Concat(onB.Acknowledged).Select(a => a.Sequence).ToList();
            var log = (await HubRest.ReadAllThroughAsync(nodes.Http(A), acknowledged.Max())).Select(SequenceOf).ToList();
            Assert.Equal(2_000, acknowledged.Count);
            Assert.Subset(log.ToHashSet(), acknowledged.ToHashSet());
            await Eventually.TrueAsync(() => members.Sum(m => m.Count) >= log.Count, "the members to receive every event", Deadline);

            var delivered = members.SelectMany(m => m.Events).ToList();
            Assert.Equal(log, delivered.Select(SequenceOf).Order());
            Assert.DoesNotContain(delivered, IsRedelivered);
            Assert.All(members, m => Assert.True(m.Events.Count(e => e.GetProperty("topic").GetString() != "work.warm") > 0, "both members had a share of the published events"));
            Assert.All(members, m => Assert.Null(m.EndedReason));
        });
    }

    /// <summary>
    /// A partition group with a member on A and one on B. 1,000 events over 40 keys, published on both nodes: every event
    /// arrives once; each key's events arrive in order, and at one member at a time (if a key moved while the nodes
    /// settled their shares, everything it had at the first member came before anything at the second).
    /// </summary>
    [Fact]
    public async Task PartitionGroup_AcrossTwoNodes_EachKeyArrivesAtOneMemberAtATime_InOrder()
    {
        await using var nodes = await HubNodes.StartAsync(Database.ConnectionString, 2);
        await nodes.CheckAsync(async () =>
        {
            var members = await MemberOnEachNodeAsync(nodes, new SubscribeArgs(["keyed.>"], MaxDemand: 200, Group: "keyed", Dispatch: "partition"));

            await WarmUpAsync(nodes, members, "keyed.warm");
            var published = new List<(long Sequence, string Key)>();
            await Task.WhenAll(new[] { A, B }.Select(node => Task.Run(async () =>
            {
                for (var batch = 0; batch < 25; batch++)
                {
                    var body = Enumerable.Range(0, 20).Select(i => new { topic = "keyed.work", key = $"k{(batch * 20 + i) % 40}", data = new { node, batch, i } }).ToArray();
                    var answers = await HubRest.PublishAsync(nodes.Http(node), body);
                    lock (published)
                    {
                        published.AddRange(answers.Select((a, i) => (a.GetProperty("sequence").GetInt64(), body[i].key)));
                    }
                }
            })));

            var log = (await HubRest.ReadAllThroughAsync(nodes.Http(A), published.Max(p => p.Sequence))).Select(SequenceOf).ToList();
            await Eventually.TrueAsync(() => members.Sum(m => m.Count) >= log.Count, "the members to receive every event", Deadline);
            var delivered = members.SelectMany((m, i) => m.Events.Select(e => (Member: i, Event: e))).ToList();
            Assert.Equal(log, delivered.Select(d => SequenceOf(d.Event)).Order());
            Assert.DoesNotContain(delivered, d => IsRedelivered(d.Event));
            Assert.All(members, m => Assert.Empty(m.Violations)); // each member's batches in sequence order
            Assert.All(members, m => Assert.True(m.Events.Any(e => e.GetProperty("topic").GetString() == "keyed.work"), "both members had keys"));

            var keys = published.Select(p => p.Key).Distinct().ToList();
            Assert.Equal(40, keys.Count);
            foreach (var key in keys)
            {
                var atMembers = delivered.Where(d => d.Event.TryGetProperty("key", out var k) && k.GetString() == key)
                    .GroupBy(d => d.Member)
                    .Select(g => g.Select(d => SequenceOf(d.Event)).ToList())
                    .OrderBy(s => s.Min())
                    .ToList();
                Assert.Equal(published.Where(p => p.Key == key).Select(p => p.Sequence).Order(), atMembers.SelectMany(s => s).Order());
                foreach (var sequences in atMembers)
                {
                    Assert.Equal(sequences.Order(), sequences); // in order at each member
                }

                for (var i = 1; i < atMembers.Count; i++)
                {
                    Assert.True(atMembers[i - 1].Max() < atMembers[i].Min(), $"key {key} was at two members at once");
                }
            }
        });
    }

    /// <summary>
    /// A demand group with a member on A that stops acknowledging (it holds a window of 50) and one on B that acknowledges
    /// everything. A is killed with SIGKILL: once its leases expire, B takes its partitions and B's member receives every
    /// event A's member held, marked redelivered; nothing of the log is missing. The time from the kill to the first
    /// redelivery is written to the test output (the failover time).
    /// </summary>
    [Fact]
    public async Task NodeKilled_WhileItsMemberHoldsUnacknowledgedEvents_TheOtherNodesMemberGetsThemRedelivered()
    {
        await using var nodes = await HubNodes.StartAsync(Database.ConnectionString, 2);
        await nodes.CheckAsync(async () =>
        {
            var (holder, taker) = await HolderAndTakerAsync(nodes, "failover");
            var held = await HoldWindowAsync(nodes, holder, "failover.work");
            var beforeKill = taker.Count;

            var clock = Stopwatch.StartNew();
            await nodes.KillAsync(A);
            await taker.WaitUntilAsync(t => t.Events.Any(IsRedelivered), Deadline, "a redelivered event at B");
            output.WriteLine($"failover: the first redelivered event reached B's member {clock.ElapsedMilliseconds} ms after A was killed");

            var log = (await HubRest.ReadAllAsync(nodes.Http(B))).Select(SequenceOf).ToList();
            var acknowledgedAtA = holder.Acknowledged;
            await taker.WaitUntilAsync(t => t.Count + acknowledgedAtA.Count >= log.Count, Deadline, "every event at B, or acknowledged at A");
            var atB = taker.Events;
            Assert.Equal(log, atB.Select(SequenceOf).Concat(acknowledgedAtA).Distinct().Order());
            foreach (var sequence in held)
            {
                Assert.True(atB.Any(e => SequenceOf(e) == sequence && IsRedelivered(e)), $"{sequence}, held by A's member, was not redelivered marked at B");
            }

            // Nothing was marked before the kill: B's own partitions were never another member's.
            Assert.DoesNotContain(atB.Take(beforeKill), IsRedelivered);
        });
    }

    /// <summary>
    /// The same, but A's member unsubscribes and A stays up: A releases its partitions at once with their exact positions
    /// (its member's events go back to them), B takes them, and B's member receives what A's member held, marked
    /// redelivered, and what A had not handed yet, unmarked: every event once at B, or acknowledged at A.
    /// </summary>
    [Fact]
    public async Task MemberLeaves_ItsNodeStays_ItsPartitionsGoToTheOtherNodeWithoutLoss()
    {
        await using var nodes = await HubNodes.StartAsync(Database.ConnectionString, 2);
        await nodes.CheckAsync(async () =>
        {
            var (holder, taker) = await HolderAndTakerAsync(nodes, "handover");
            var held = await HoldWindowAsync(nodes, holder, "handover.work");
            var acknowledgedAtA = holder.Acknowledged;
            var countBefore = taker.Count;

            await nodes.Connections[0].UnsubscribeAsync(holder.Log);
            var log = (await HubRest.ReadAllAsync(nodes.Http(B))).Select(SequenceOf).ToList();
            await taker.WaitUntilAsync(t => t.Count + acknowledgedAtA.Count >= log.Count, Deadline, "every event at B, or acknowledged at A");
            var atB = taker.Events;
            Assert.Equal(log.Count, atB.Count + acknowledgedAtA.Count);
            Assert.Equal(log, atB.Select(SequenceOf).Concat(acknowledgedAtA).Order());
            var redelivered = atB.Where(IsRedelivered).Select(SequenceOf).Order().ToList();
            Assert.Equal(held.Order(), redelivered); // exactly what A's member held: the hand-over's marks are exact
            Assert.True(atB.Count - countBefore > held.Count, "B also received what A had read and not handed");
        });
    }

    /// <summary>
    /// Publishes one event at a time on A until every member has received one (each node then holds a share of the
    /// group's partitions; the nodes settle their shares within a renewal or two). Bounded by count and time.
    /// </summary>
    private static async Task WarmUpAsync(HubNodes nodes, IReadOnlyList<SubscriptionLog> members, string topic)
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 5_000 && clock.Elapsed < Deadline; i++)
        {
            if (members.All(m => m.Count > 0))
            {
                return;
            }

            await HubRest.PublishAsync(nodes.Http(i % 2), new { topic, id = $"warm-{i}" });
        }

        throw new TimeoutException($"the members did not all receive an event: {string.Join(", ", members.Select(m => m.Count))}");
    }

    /// <summary>A member on A that acknowledges until told to stop (and records what it acknowledged), and one on B that
    /// always acknowledges; warmed up until both have events.</summary>
    /// <summary>A member of the group <paramref name="request"/> names on A and one on B, each acknowledging every batch
    /// as it arrives.</summary>
    private static async Task<List<SubscriptionLog>> MemberOnEachNodeAsync(HubNodes nodes, SubscribeArgs request)
    {
        var members = new List<SubscriptionLog>();
        foreach (var node in new[] { A, B })
        {
            var client = await nodes.ConnectAsync(node);
            members.Add(await client.SubscribeAsync(request, (log, n) => _ = client.AskAsync(log, n)));
        }

        return members;
    }

    private async Task<(Holder Holder, SubscriptionLog Taker)> HolderAndTakerAsync(HubNodes nodes, string group)
    {
        var onA = await nodes.ConnectAsync(A);
        var onB = await nodes.ConnectAsync(B);
        var holder = new Holder();
        holder.Log = await onA.SubscribeAsync(new SubscribeArgs([group + ".>"], MaxDemand: Window, Group: group, Dispatch: "demand"), (log, n) =>
        {
            if (holder.TryAcknowledge(log.Sequences.TakeLast(n)))
            {
                _ = onA.AskAsync(log, n);
            }
        });
        var taker = await onB.SubscribeAsync(new SubscribeArgs([group + ".>"], MaxDemand: 500, Group: group, Dispatch: "demand"), (log, n) => _ = onB.AskAsync(log, n));
        await WarmUpAsync(nodes, [holder.Log, taker], group + ".warm");
        return (holder, taker);
    }

    /// <summary>Stops A's member acknowledging, then publishes on B until it holds a full window unacknowledged (no credits
    /// left); answers what it holds.</summary>
    private static async Task<IReadOnlyList<long>> HoldWindowAsync(HubNodes nodes, Holder holder, string topic)
    {
        holder.Stop();
        for (var batch = 0; batch < 200 && holder.Held.Count < Window; batch++)
        {
            await HubRest.PublishAsync(nodes.Http(B), Enumerable.Range(0, 10).Select(i => new { topic, id = $"{batch}-{i}" }).ToArray());
        }

        await holder.Log.WaitUntilAsync(_ => holder.Held.Count >= Window, Deadline, "A's member to hold a full window");
        return holder.Held;
    }

    /// <summary>A member that acknowledges each batch until <see cref="Stop"/>, recording what it acknowledged.</summary>
    private sealed class Holder
    {
        private readonly Lock _gate = new();
        private readonly List<long> _acknowledged = [];
        private bool _acking = true;

        public SubscriptionLog Log { get; set; } = null!;

        public IReadOnlyList<long> Acknowledged
        {
            get
            {
                lock (_gate)
                {
                    return [.. _acknowledged];
                }
            }
        }

        /// <summary>What it received and did not acknowledge.</summary>
        public IReadOnlyList<long> Held => [.. Log.Sequences.Except(Acknowledged)];

        /// <summary>Records <paramref name="sequences"/> as acknowledged, unless it stopped acknowledging.</summary>
        public bool TryAcknowledge(IEnumerable<long> sequences)
        {
            lock (_gate)
            {
                if (_acking)
                {
                    _acknowledged.AddRange(sequences);
                }

                return _acking;
            }
        }

        public void Stop()
        {
            lock (_gate)
            {
                _acking = false;
            }
        }
    }
}
