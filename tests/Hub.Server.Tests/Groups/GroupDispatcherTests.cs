using Hub.Server.Groups;
using Hub.Log;

namespace Hub.Server.Tests.Groups;

/// <summary>The group dispatcher as a pure state machine, tested the way GenStage tests its dispatchers: who gets which
/// events, what is kept, what comes back.</summary>
public sealed class GroupDispatcherTests
{
    private static LogEntry Entry(long sequence, string? key = null) =>
        new(sequence, "t", null, null, key, DateTimeOffset.UnixEpoch, System.Text.Encoding.UTF8.GetBytes($"{{\"sequence\":{sequence}}}"));

    private static List<LogEntry> Entries(long from, long to, Func<long, string?>? key = null) =>
        [.. Enumerable.Range((int)from, (int)(to - from + 1)).Select(s => Entry(s, key?.Invoke(s)))];

    private static Dictionary<string, List<GroupItem>> Dispatch(GroupDispatcher dispatcher)
    {
        var got = new Dictionary<string, List<GroupItem>>();
        dispatcher.Dispatch((id, batch) =>
        {
            Assert.True(batch.Zip(batch.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence), "a batch is in sequence order");
            (got.TryGetValue(id, out var list) ? list : got[id] = []).AddRange(batch);
        });
        return got;
    }

    private static long[] Sequences(Dictionary<string, List<GroupItem>> got, string id) =>
        got.TryGetValue(id, out var list) ? [.. list.Select(i => i.Sequence)] : [];

    [Fact]
    public void Demand_ServesTheMemberWithTheMostCreditsFirst_UpToItsCredits()
    {
        var dispatcher = new GroupDispatcher(GroupDispatchMode.Demand);
        dispatcher.Join("a", 3);
        dispatcher.Join("b", 5);
        dispatcher.Offer(Entries(1, 10), handedBefore: 0);

        var got = Dispatch(dispatcher);

        Assert.Equal([1, 2, 3, 4, 5], Sequences(got, "b"));
        Assert.Equal([6, 7, 8], Sequences(got, "a"));
        Assert.Equal(2, dispatcher.Queued); // 9 and 10 wait: nobody has credits
        Assert.Equal(0, dispatcher.TotalCredits);
    }

    [Fact]
    public void Demand_TiesKeepJoinOrder()
    {
        var dispatcher = new GroupDispatcher(GroupDispatchMode.Demand);
        dispatcher.Join("a", 2);
        dispatcher.Join("b", 2);
        dispatcher.Offer(Entries(1, 3), handedBefore: 0);

        var got = Dispatch(dispatcher);

        Assert.Equal([1, 2], Sequences(got, "a"));
        Assert.Equal([3], Sequences(got, "b"));
    }

    [Fact]
    public void Ask_AcknowledgesTheOldestInFlight_AndGrantsCredits()
    {
        var dispatcher = new GroupDispatcher(GroupDispatchMode.Demand);
        dispatcher.Join("a", 5);
        dispatcher.Offer(Entries(1, 8), handedBefore: 0);
        Dispatch(dispatcher);
        Assert.Equal(0, dispatcher.AcknowledgedPosition(readTo: 8));

        Assert.Equal(2, dispatcher.Ask("a", 2));

        Assert.Equal((2, 3), dispatcher.Describe("a"));
        Assert.Equal(2, dispatcher.AcknowledgedPosition(readTo: 8));
        var got = Dispatch(dispatcher);
        Assert.Equal([6, 7], Sequences(got, "a"));
        Assert.Equal(5, dispatcher.InFlight);
    }

    [Fact]
    public void Ask_WithMoreThanInFlight_AcknowledgesWhatThereIs()
    {
        var dispatcher = new GroupDispatcher(GroupDispatchMode.Demand);
        dispatcher.Join("a", 0);

        Assert.Equal(0, dispatcher.Ask("a", 10));
        Assert.Equal((10, 0), dispatcher.Describe("a"));
    }

    [Fact]
    public void AcknowledgedPosition_IsOneBeforeTheOldestQueuedOrInFlight_OrWhatWasRead()
    {
        var dispatcher = new GroupDispatcher(GroupDispatchMode.Demand);
        dispatcher.Join("a", 2);
        dispatcher.Join("b", 2);
        Assert.Equal(40, dispatcher.AcknowledgedPosition(readTo: 40)); // nothing queued or in flight

        dispatcher.Offer([Entry(41), Entry(45), Entry(47), Entry(50)], handedBefore: 0);
        Dispatch(dispatcher); // a: 41, 45; b: 47, 50
        dispatcher.Ask("b", 2);
        Assert.Equal(40, dispatcher.AcknowledgedPosition(readTo: 50)); // a still holds 41

        dispatcher.Ask("a", 1);
        Assert.Equal(44, dispatcher.AcknowledgedPosition(readTo: 50)); // a still holds 45

        dispatcher.Ask("a", 1);
        Assert.Equal(50, dispatcher.AcknowledgedPosition(readTo: 50));
    }

    [Fact]
    public void Leave_HandsTheUnacknowledgedToOthers_MarkedRedelivered_InOrder_BeforeNewerEvents()
    {
        var dispatcher = new GroupDispatcher(GroupDispatchMode.Demand);
        dispatcher.Join("a", 4);
        dispatcher.Join("b", 0);
        dispatcher.Offer(Entries(1, 6), handedBefore: 0);
        Dispatch(dispatcher); // a: 1..4; 5, 6 queued
        dispatcher.Ask("a", 1); // acknowledges 1

        Assert.Equal(3, dispatcher.Leave("a"));
        dispatcher.Ask("b", 10);
        var got = Dispatch(dispatcher);

        Assert.Equal([2, 3, 4, 5, 6], Sequences(got, "b"));
        Assert.Equal([true, true, true, false, false], got["b"].Select(i => i.Redelivered));
        Assert.Equal(1, dispatcher.AcknowledgedPosition(readTo: 6));
    }

    [Fact]
    public void Offer_MarksWhatWasHandedBeforeARestart_AsRedelivered()
    {
        var dispatcher = new GroupDispatcher(GroupDispatchMode.Demand);
        dispatcher.Join("a", 10);
        dispatcher.Offer(Entries(11, 14), handedBefore: 12);

        var got = Dispatch(dispatcher);

        Assert.Equal([true, true, false, false], got["a"].Select(i => i.Redelivered));
        Assert.Equal(14, dispatcher.HighestHanded);
    }

    [Fact]
    public void Partition_SendsEveryEventOfAKeyToOneMember_InOrder()
    {
        var dispatcher = new GroupDispatcher(GroupDispatchMode.Partition);
        foreach (var id in new[] { "a", "b", "c", "d" })
        {
            dispatcher.Join(id, 1000);
        }

        dispatcher.Offer(Entries(1, 400, s => $"k{s % 40}"), handedBefore: 0);
        var got = Dispatch(dispatcher);

        Assert.Equal(400, got.Values.Sum(l => l.Count));
        var ownerOfKey = new Dictionary<string, string>();
        foreach (var (member, items) in got)
        {
            foreach (var item in items)
            {
                Assert.Equal(member, ownerOfKey.TryGetValue(item.Entry.Key!, out var owner) ? owner : ownerOfKey[item.Entry.Key!] = member);
            }

            foreach (var byKey in items.GroupBy(i => i.Entry.Key))
            {
                Assert.Equal(byKey.Select(i => i.Sequence).Order(), byKey.Select(i => i.Sequence));
            }
        }

        Assert.True(got.Count >= 3, $"40 keys over 4 members used only {got.Count} members");
    }

    [Fact]
    public void Partition_EventsWithoutAKey_AreSpreadBySequence()
    {
        var dispatcher = new GroupDispatcher(GroupDispatchMode.Partition);
        dispatcher.Join("a", 1000);
        dispatcher.Join("b", 1000);
        dispatcher.Offer(Entries(1, 100), handedBefore: 0);

        var got = Dispatch(dispatcher);

        Assert.Equal(50, Sequences(got, "a").Length);
        Assert.Equal(50, Sequences(got, "b").Length);
        Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), Sequences(got, "a").Concat(Sequences(got, "b")).Order());
    }

    [Fact]
    public void Partition_AMemberWithoutCredits_DoesNotStallTheOthers_ItsEventsWaitForIt()
    {
        var dispatcher = new GroupDispatcher(GroupDispatchMode.Partition);
        dispatcher.Join("a", 0);
        dispatcher.Join("b", 1000);
        dispatcher.Offer(Entries(1, 100), handedBefore: 0);

        var got = Dispatch(dispatcher);
        Assert.Equal(50, Sequences(got, "b").Length);
        Assert.Equal(50, dispatcher.Queued);

        dispatcher.Ask("a", 1000);
        got = Dispatch(dispatcher);
        Assert.Equal(50, Sequences(got, "a").Length);
        Assert.Equal(0, dispatcher.Queued);
    }

    [Fact]
    public void Partition_MovedToANewMember_WaitsUntilTheOldOwnerAcknowledges_SoAKeyIsNeverAtTwoMembers()
    {
        var dispatcher = new GroupDispatcher(GroupDispatchMode.Partition);
        dispatcher.Join("a", 100);
        // A key whose partition is odd moves to the second member when it joins (partitions are dealt round-robin).
        var key = Enumerable.Range(0, 1000).Select(i => $"k{i}").First(k => dispatcher.PartitionOf(Entry(1, k)) % 2 == 1);
        dispatcher.Offer(Entries(1, 3, _ => key), handedBefore: 0);
        Assert.Equal([1, 2, 3], Sequences(Dispatch(dispatcher), "a"));

        dispatcher.Join("b", 100);
        dispatcher.Offer(Entries(4, 5, _ => key), handedBefore: 0);
        Assert.Empty(Dispatch(dispatcher)); // a still holds 1..3 of this key

        dispatcher.Ask("a", 2);
        Assert.Empty(Dispatch(dispatcher)); // a still holds 3

        dispatcher.Ask("a", 1);
        Assert.Equal([4, 5], Sequences(Dispatch(dispatcher), "b"));
    }

    [Fact]
    public void Partition_WhenTheOwnerLeaves_ItsHeldEventsGoFirstToTheNewOwner_MarkedRedelivered()
    {
        var dispatcher = new GroupDispatcher(GroupDispatchMode.Partition);
        dispatcher.Join("a", 100);
        dispatcher.Join("b", 100);
        dispatcher.Offer(Entries(1, 20, _ => "same"), handedBefore: 0);
        var got = Dispatch(dispatcher);
        var owner = got.Keys.Single();
        var other = owner == "a" ? "b" : "a";

        dispatcher.Leave(owner);
        dispatcher.Offer(Entries(21, 22, _ => "same"), handedBefore: 0);
        got = Dispatch(dispatcher);

        Assert.Equal(Enumerable.Range(1, 22).Select(i => (long)i), Sequences(got, other));
        Assert.All(got[other].Take(20), i => Assert.True(i.Redelivered));
        Assert.All(got[other].Skip(20), i => Assert.False(i.Redelivered));
    }

    /// <summary>A demand group's leased partitions are its events' sequences modulo 64; each one's acknowledged position is
    /// one before its oldest event queued or in flight.</summary>
    [Fact]
    public void OldestOutstanding_IsPerLeasedPartition_OverQueuedAndInFlight()
    {
        var dispatcher = new GroupDispatcher(GroupDispatchMode.Demand);
        dispatcher.Join("a", 2);
        dispatcher.Offer(Entries(64, 130), handedBefore: 0); // 64 and 128 are partition 0, 65 and 129 partition 1, 66 and 130 partition 2
        Assert.Equal([64, 65], Sequences(Dispatch(dispatcher), "a"));
        dispatcher.Ask("a", 1); // acknowledges 64

        Span<long> oldest = stackalloc long[GroupDispatcher.PartitionCount];
        dispatcher.OldestOutstanding(oldest);

        Assert.Equal(128, oldest[0]);  // queued
        Assert.Equal(65, oldest[1]);   // in flight
        Assert.Equal(66, oldest[2]);   // queued
        Assert.Equal(1, dispatcher.InFlightOf(1));
        Assert.Equal(65, dispatcher.HandedOf(1));
        Assert.Equal(64, dispatcher.AcknowledgedPosition(readTo: 130));
    }

    /// <summary>What a node hands over is taken out of the queues (never out of members' hands), and nothing above the
    /// mark its leases reserved is handed.</summary>
    [Fact]
    public void RemoveQueued_TakesOnlyThosePartitions_AndDispatchStopsAtTheHandMark()
    {
        var dispatcher = new GroupDispatcher(GroupDispatchMode.Demand);
        dispatcher.Join("a", 100);
        dispatcher.Offer(Entries(1, 10), handedBefore: 0);
        Span<long> removedFrom = stackalloc long[GroupDispatcher.PartitionCount];
        removedFrom.Fill(long.MaxValue);

        Assert.Equal(5, dispatcher.RemoveQueued(p => p % 2 == 1, removedFrom)); // the odd sequences
        Assert.Equal(1, removedFrom[1]);
        Assert.Equal(long.MaxValue, removedFrom[2]);

        var got = new List<long>();
        dispatcher.Dispatch((_, batch) => got.AddRange(batch.Select(i => i.Sequence)), handUpTo: 6);
        Assert.Equal([2, 4, 6], got);
        Assert.Equal(2, dispatcher.Queued);
        dispatcher.Dispatch((_, batch) => got.AddRange(batch.Select(i => i.Sequence)));
        Assert.Equal([2, 4, 6, 8, 10], got);
    }
}
