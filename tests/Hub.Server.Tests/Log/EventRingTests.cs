using System.Text;
using Hub.Log;
using Hub.Server.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Hub.Server.Tests.Log;

/// <summary>
/// The ring's storage (<see cref="EventRing"/> over <see cref="EventSegments"/>): the newest entries as objects, older
/// ones as bytes in segments. Every read is compared with what was appended, field by field.
/// </summary>
public sealed class EventRingTests
{
    private static readonly DateTimeOffset At = new(2026, 3, 4, 5, 6, 7, 890, TimeSpan.FromHours(2));

    /// <summary>An entry whose every field says its sequence (the sizes vary, so records straddle segments).</summary>
    private static LogEntry Entry(long sequence, string topic = "orders.eu", int pad = 0) => new(
        sequence,
        topic,
        "order.created",
        sequence % 3 == 0 ? null : $"id-{sequence}",
        sequence % 2 == 0 ? null : $"key-ü-{sequence}",
        At.AddMilliseconds(sequence),
        Encoding.UTF8.GetBytes($"{{\"sequence\":{sequence},\"data\":\"{new string('x', (int)(sequence % 50) + pad)}\"}}"));

    private static void AssertSame(LogEntry expected, LogEntry? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Sequence, actual.Sequence);
        Assert.Equal(expected.Topic, actual.Topic);
        Assert.Equal(expected.Type, actual.Type);
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Key, actual.Key);
        Assert.Equal(expected.Time, actual.Time);
        Assert.Equal(expected.Time.Offset, actual.Time.Offset);
        Assert.Equal(Encoding.UTF8.GetString(expected.Json), Encoding.UTF8.GetString(actual.Json));
    }

    private static EventRing Filled(int capacity, int hot, int count, int pad = 0)
    {
        var ring = new EventRing(capacity, hot);
        for (var sequence = 1L; sequence <= count; sequence++)
        {
            ring.Write(Entry(sequence, pad: pad));
            ring.Publish(sequence);
        }

        return ring;
    }

    [Fact]
    public void WrapAround_KeepsTheLastCapacityEntries_HotAsTheObjectsAppended_ColdAsTheirBytes()
    {
        var appended = new Dictionary<long, LogEntry>();
        var ring = new EventRing(50, 4);
        for (var sequence = 1L; sequence <= 130; sequence++)
        {
            appended[sequence] = Entry(sequence);
            ring.Write(appended[sequence]);
            ring.Publish(sequence);
        }

        Assert.Equal(81, ring.First);
        var read = new List<LogEntry>();
        var result = ring.Read(80, null, 1000, int.MaxValue, 1000, read, CancellationToken.None);
        Assert.Equal(new LogRead(130, false, 81), result);
        Assert.Equal(Enumerable.Range(81, 50).Select(s => (long)s), read.Select(e => e.Sequence));
        foreach (var entry in read)
        {
            AssertSame(appended[entry.Sequence], entry);
        }

        // The newest four are the very objects appended (shared by every reader); the others were made from bytes.
        Assert.All(read.Skip(46), e => Assert.Same(appended[e.Sequence], e));
        Assert.All(read.Take(46), e => Assert.NotSame(appended[e.Sequence], e));
        Assert.Null(ring.Get(80));
        Assert.Equal(new LogRead(79, true, 81), ring.Read(79, null, 10, int.MaxValue, 1000, [], CancellationToken.None));
    }

    [Fact]
    public void OverwrittenUnderASlowReader_ReadsAsTruncation_NeverAsTheNewEntry()
    {
        var ring = Filled(capacity: 20, hot: 2, count: 20);
        var before = ring.Cold!.Get(5);
        AssertSame(Entry(5), before);

        // The writer goes on past the reader: sequence 5's cold slot now holds 23 (5 + 18 cold slots).
        for (var sequence = 21L; sequence <= 25; sequence++)
        {
            ring.Write(Entry(sequence));
            ring.Publish(sequence);
        }

        Assert.Null(ring.Cold.Get(5));
        Assert.Null(ring.Get(5));
        AssertSame(Entry(23), ring.Cold.Get(23)); // what overwrote it reads as itself
        var read = new List<LogEntry>();
        Assert.Equal(new LogRead(4, true, 6), ring.Read(4, null, 10, int.MaxValue, 100, read, CancellationToken.None));
        Assert.Empty(read);
    }

    [Fact]
    public async Task ConcurrentReaders_ReadTheBytesAppended_OrTruncation()
    {
        // A writer laps a small ring many times while readers read behind it: every entry a reader gets must be the one
        // appended at its sequence (its bytes say which), or its read says truncated.
        const int Count = 200_000;
        var ring = new EventRing(64, 8);
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            for (var sequence = 1L; sequence <= Count; sequence++)
            {
                ring.Write(Entry(sequence, pad: (int)(sequence % 7) * 40));
                ring.Publish(sequence);
            }
        });
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            long checkedEntries = 0, truncations = 0;
            var read = new List<LogEntry>();
            var after = 0L;
            while (!writer.IsCompleted || after < ring.Head)
            {
                read.Clear();
                var result = ring.Read(after, null, 32, int.MaxValue, 1000, read, CancellationToken.None);
                if (result.Truncated)
                {
                    truncations++;
                    after = result.FirstRetained - 1;
                    continue;
                }

                for (var i = 0; i < read.Count; i++)
                {
                    Assert.Equal(after + 1 + i, read[i].Sequence);
                    AssertSame(Entry(read[i].Sequence, pad: (int)(read[i].Sequence % 7) * 40), read[i]);
                }

                checkedEntries += read.Count;
                after = result.ScannedTo;
            }

            return (checkedEntries, truncations);
        })).ToArray();

        await writer.WaitAsync(TimeSpan.FromMinutes(2));
        var results = await Task.WhenAll(readers).WaitAsync(TimeSpan.FromMinutes(2));
        Assert.All(results, r => Assert.True(r.checkedEntries > 0, "each reader compared entries"));
    }

    [Fact]
    public void RetentionByCount_DropsTheSegmentsBehindIt()
    {
        // 100 KiB entries: ten to a segment. A ring of 40 holds the last 40, so about four segments, however many pass.
        var ring = Filled(capacity: 40, hot: 2, count: 1000, pad: 100 * 1024);
        Assert.InRange(ring.Cold!.SegmentCount, 4, 6);
        Assert.Equal(961, ring.First);
        AssertSame(Entry(961, pad: 100 * 1024), ring.Get(961));
        Assert.Null(ring.Get(960));
    }

    [Fact]
    public async Task RetentionByAge_MovesTheFloorPastColdEntries_AndDropsTheirSegments()
    {
        var time = new ManualTimeProvider();
        var options = new EventLogOptions { Retention = new() { MaxEvents = 1000, MaxAge = TimeSpan.FromMinutes(1) } };
        await using var log = TestLogs.MemoryCold(options, time);
        var big = Encoding.UTF8.GetBytes($"{{\"data\":\"{new string('o', 300 * 1024)}\"}}");
        var old = Enumerable.Range(0, 10).Select(_ => new EventDraft("old", null, null, null, time.GetUtcNow(), big)).ToArray();
        await log.AppendAsync(old);
        time.Advance(TimeSpan.FromMinutes(2));
        var young = Enumerable.Range(0, 10).Select(_ => new EventDraft("young", null, null, null, time.GetUtcNow(), big)).ToArray();
        await log.AppendAsync(young);

        Assert.Equal(11, log.FirstRetained);
        var read = new List<LogEntry>();
        await log.ReadAsync(0, null, 100, int.MaxValue, read);
        Assert.Empty(read); // truncated: the old ones are gone
        await log.ReadAsync(10, null, 100, int.MaxValue, read);
        Assert.Equal(Enumerable.Range(11, 10).Select(s => (long)s), read.Select(e => e.Sequence));
        Assert.All(read, e => Assert.Equal("young", e.Topic));

        // One more append drops the segments that held only old entries: the ten young ones (3 MiB) need about four.
        await log.AppendAsync([new EventDraft("young", null, null, null, time.GetUtcNow(), big)]);
        var store = (MemoryEventLog)log.Store;
        Assert.InRange(store.Ring.Cold!.SegmentCount, 3, 5);
    }

    [Fact]
    public void MessagePack_MadeWhileHot_GoesColdWithTheEntry_AndIsNotMadeAgain()
    {
        var ring = new EventRing(10, 2);
        var first = Entry(1);
        ring.Write(first);
        ring.Publish(1);
        var conversions = 0;
        byte[] Convert(byte[] json)
        {
            conversions++;
            return [0x81, .. json];
        }

        var made = first.GetMessagePack(Convert);
        for (var sequence = 2L; sequence <= 4; sequence++)
        {
            ring.Write(Entry(sequence));
            ring.Publish(sequence);
        }

        var cold = ring.Get(1);
        Assert.NotSame(first, cold);
        Assert.Equal(made, cold!.GetMessagePack(Convert));
        Assert.Equal(1, conversions);

        // Never made while hot: made at most once per entry read (the cold slot holds none).
        var plain = ring.Get(2)!;
        Assert.Null(plain.KnownMessagePack);
    }

    [Fact]
    public void ColdEntries_ShareOneStringPerTopicAndType()
    {
        var ring = new EventRing(10, 1);
        for (var sequence = 1L; sequence <= 6; sequence++)
        {
            ring.Write(Entry(sequence, topic: sequence % 2 == 0 ? "a.even" : new string("b.odd".ToCharArray())));
            ring.Publish(sequence);
        }

        var entries = Enumerable.Range(1, 5).Select(s => ring.Get(s)!).ToArray();
        Assert.Equal(["b.odd", "a.even", "b.odd", "a.even", "b.odd"], entries.Select(e => e.Topic));
        Assert.Same(entries[0].Topic, entries[2].Topic);
        Assert.Same(entries[0].Topic, ring.Get(1)!.Topic);
        Assert.Same(entries[1].Topic, entries[3].Topic);
        Assert.Same(entries[0].Type, entries[1].Type);
        Assert.NotSame(entries[0].Id, ring.Get(1)!.Id); // ids are per event: made per read, not interned
    }
}
