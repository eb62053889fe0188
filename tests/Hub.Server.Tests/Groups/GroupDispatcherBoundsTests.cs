using Hub.Server.Groups;
using Hub.Log;

namespace Hub.Server.Tests.Groups;

/// <summary>
/// What a group hands a member is bounded by bytes as well as by credits: a batch stops growing at a batch's worth of
/// bytes, and a member whose outbox is full is passed over as if it had no credits (its events wait, or go to another
/// member in a demand group).
/// </summary>
public sealed class GroupDispatcherBoundsTests
{
    // Each entry's JSON is exactly 30 bytes: {"sequence":N,"pad":"…"} padded to 30.
    private const int EntryBytes = 30;

    private static LogEntry Entry(long sequence, string? key = null)
    {
        var prefix = $"{{\"sequence\":{sequence},\"pad\":\"";
        var json = prefix + new string('x', EntryBytes - prefix.Length - 2) + "\"}";
        return new(sequence, "t", null, null, key, DateTimeOffset.UnixEpoch, System.Text.Encoding.UTF8.GetBytes(json));
    }

    private static List<LogEntry> Entries(long from, long to, Func<long, string?>? key = null) =>
        [.. Enumerable.Range((int)from, (int)(to - from + 1)).Select(s => Entry(s, key?.Invoke(s)))];

    /// <summary>Dispatches once; a member that got a batch in this call has a full outbox (cannot take more) when <paramref name="oneBatchFills"/>.</summary>
    private static List<string> Dispatch(GroupDispatcher dispatcher, bool oneBatchFills = false, Func<string, bool>? canTake = null)
    {
        var batches = new List<string>();
        var full = new HashSet<string>();
        dispatcher.Dispatch(
            (id, batch) =>
            {
                batches.Add($"{id}: {string.Join(' ', batch.Select(i => i.Sequence))}");
                if (oneBatchFills)
                {
                    full.Add(id);
                }
            },
            id => !full.Contains(id) && (canTake?.Invoke(id) ?? true));
        return batches;
    }

    [Fact]
    public void Demand_ABatchStopsGrowingOnceItReachesMaxBatchBytes()
    {
        var dispatcher = new GroupDispatcher(GroupDispatchMode.Demand, maxBatchBytes: 100);
        dispatcher.Join("a", 10);
        dispatcher.Offer(Entries(1, 10), handedBefore: 0);

        // 3 entries are 90 bytes, under the bound: a fourth is taken, and then the batch is full.
        Assert.Equal(["a: 1 2 3 4", "a: 5 6 7 8", "a: 9 10"], Dispatch(dispatcher));
        Assert.Equal(0, dispatcher.Queued);
    }

    [Fact]
    public void Demand_AMemberWhoseOutboxIsFull_IsPassedOver_AndWhenNoneCanTake_TheEventsWait()
    {
        var dispatcher = new GroupDispatcher(GroupDispatchMode.Demand, maxBatchBytes: 100);
        dispatcher.Join("a", 10);
        dispatcher.Join("b", 5);
        dispatcher.Offer(Entries(1, 10), handedBefore: 0);

        Assert.Equal(["a: 1 2 3 4", "b: 5 6 7 8"], Dispatch(dispatcher, oneBatchFills: true));
        Assert.Equal(2, dispatcher.Queued);
        Assert.Equal((6L, 4), dispatcher.Describe("a"));

        // Nobody can take: nothing moves, though a holds credits.
        Assert.Empty(Dispatch(dispatcher, canTake: _ => false));
        Assert.Equal(2, dispatcher.Queued);

        // a's write completed: it takes the rest.
        Assert.Equal(["a: 9 10"], Dispatch(dispatcher, oneBatchFills: true));
        Assert.Equal(0, dispatcher.Queued);
    }

    [Fact]
    public void Partition_AnOwnerWhoseOutboxIsFull_HoldsItsPartitions_WhileTheOtherOwnersGoOn_AndAPassIsBoundedByBytes()
    {
        var dispatcher = new GroupDispatcher(GroupDispatchMode.Partition, maxBatchBytes: 100);
        dispatcher.Join("a", 100);
        dispatcher.Join("b", 100);
        // Keys by owner: partitions are dealt round-robin, a owns the even ones and b the odd ones.
        var keyOfA = Enumerable.Range(0, 1000).Select(i => $"k{i}").First(k => dispatcher.PartitionOf(Entry(0, k)) % 2 == 0);
        var keyOfB = Enumerable.Range(0, 1000).Select(i => $"k{i}").First(k => dispatcher.PartitionOf(Entry(0, k)) % 2 == 1);
        dispatcher.Offer(Entries(1, 12, s => s % 2 == 0 ? keyOfA : keyOfB), handedBefore: 0);

        var got = Dispatch(dispatcher, canTake: id => id == "b");
        Assert.Equal(["b: 1 3 5 7"], got); // one pass: b's batch is full at 4 entries; a's events wait
        Assert.Equal(8, dispatcher.Queued);

        got = Dispatch(dispatcher);
        Assert.Equal(["a: 2 4 6 8", "b: 9 11"], got.Order(StringComparer.Ordinal));
        Assert.Equal(["a: 10 12"], Dispatch(dispatcher));
        Assert.Equal(0, dispatcher.Queued);
    }
}
