using Hub.Stages.Dispatchers;
using Hub.Stages.Tests.Support;

namespace Hub.Stages.Tests.Dispatchers;

public class KeyHashTests
{
    /// <summary>FNV-1a's published values (32-bit, offset basis 2166136261, prime 16777619): the same in every process,
    /// so nodes that hash keys into partitions agree.</summary>
    [Theory]
    [InlineData("a", 64, 0xE40C292Cu % 64)]
    [InlineData("a", 10, 0xE40C292Cu % 10)]
    [InlineData("", 64, 2166136261u % 64)]
    public void Partition_IsFnv1a_OfTheKey(string key, int partitions, uint expected)
    {
        Assert.Equal((int)expected, KeyHash.Partition(key, partitions));
    }

    [Theory]
    [InlineData("a", 7L, 64)]
    [InlineData("a", 8L, 10)]
    [InlineData("", 9L, 64)]
    public void Partition_OfAnEventWithAKey_IsItsKeys_WhateverItsSequence(string key, long sequence, int partitions)
    {
        Assert.Equal(KeyHash.Partition(key, partitions), KeyHash.Partition(key, sequence, partitions));
    }

    [Theory]
    [InlineData(0L, 4, 0)]
    [InlineData(7L, 4, 3)]
    [InlineData(64L, 64, 0)]
    [InlineData(130L, 64, 2)]
    public void Partition_OfAnEventWithoutAKey_IsItsSequenceModuloThePartitions(long sequence, int partitions, int expected)
    {
        Assert.Equal(expected, KeyHash.Partition(null, sequence, partitions));
    }

    [Fact]
    public void PartitionDispatcher_ByKeyHash_SendsOneKeyToOnePartition()
    {
        var dispatcher = new PartitionDispatcher<string>(4, item => KeyHash.Partition(item.Split(':')[0], 4));
        var sink = new RecordingSink<string>();
        for (var p = 0; p < 4; p++)
        {
            dispatcher.Subscribe(p, new Hub.Stages.Subscriptions.SubscriptionOptions<string> { Partition = p });
            dispatcher.Ask(p, 100, sink);
        }

        string[] events = [.. Enumerable.Range(0, 40).Select(i => $"k{i % 5}:{i}")];
        Assert.True(dispatcher.Dispatch(events, sink, out _).IsEmpty);

        foreach (var key in Enumerable.Range(0, 5).Select(k => $"k{k}"))
        {
            var at = Enumerable.Range(0, 4).Where(p => sink.EventsOf(p).Any(e => e.StartsWith(key + ":", StringComparison.Ordinal))).ToList();
            Assert.Equal([KeyHash.Partition(key, 4)], at);
            Assert.Equal(events.Where(e => e.StartsWith(key + ":", StringComparison.Ordinal)), sink.EventsOf(at[0]).Where(e => e.StartsWith(key + ":", StringComparison.Ordinal)));
        }
    }
}
