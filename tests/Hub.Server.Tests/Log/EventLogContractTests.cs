using System.Text;
using System.Text.Json;
using Hub.Log;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests.Log;

/// <summary>
/// The <see cref="IEventLog"/> contract, run against every implementation: a derived class says how to create its log.
/// Nothing here knows the engine. Where an engine may do work in the background (retention), the test awaits the
/// condition with a deadline instead of asserting it on the next line.
/// </summary>
public abstract class EventLogContractTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    // Recent, so retention by age (7 days by default) keeps it; whole milliseconds, as the file stores them.
    private static readonly DateTimeOffset At = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    private readonly List<IEventLog> _logs = [];

    /// <summary>Creates a fresh, empty log with <paramref name="options"/>, reading the time from <paramref name="time"/>.</summary>
    protected abstract IEventLog CreateLog(EventLogOptions options, TimeProvider time);

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var log in _logs)
        {
            await CloseAsync(log);
        }
    }

    /// <summary>Closes a log, whichever way it is disposable.</summary>
    protected static async Task CloseAsync(IEventLog log)
    {
        switch (log)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    /// <summary>Creates a log through <see cref="CreateLog"/> and disposes it after the test.</summary>
    protected IEventLog Create(int maxEvents = 1000, TimeSpan? dedupWindow = null, TimeProvider? time = null, int maxScanEvents = EventLogOptions.DefaultMaxScanEvents, Action<EventLogOptions>? configure = null)
    {
        var options = new EventLogOptions
        {
            Retention = new() { MaxEvents = maxEvents },
            DedupWindow = dedupWindow ?? EventLogOptions.DefaultDedupWindow,
            MaxScanEvents = maxScanEvents,
        };
        configure?.Invoke(options);
        var log = CreateLog(options, time ?? TimeProvider.System);
        _logs.Add(log);
        return log;
    }

    protected static EventDraft Draft(string topic, string? id = null, string? marker = null)
    {
        var body = new StringBuilder("{\"topic\":").Append(JsonSerializer.Serialize(topic));
        if (id is not null)
        {
            body.Append(",\"id\":").Append(JsonSerializer.Serialize(id));
        }

        if (marker is not null)
        {
            body.Append(",\"data\":").Append(JsonSerializer.Serialize(marker));
        }

        return new EventDraft(topic, "t", id, null, At, Encoding.UTF8.GetBytes(body.Append('}').ToString()));
    }

    protected static EventDraft[] Drafts(int count, string topic = "a") =>
        Enumerable.Range(0, count).Select(i => Draft(topic, marker: $"{topic}-{i}")).ToArray();

    protected static async Task<List<LogEntry>> ReadAllAsync(IEventLog log, long after = 0, IEventFilter? filter = null)
    {
        var entries = new List<LogEntry>();
        var read = await log.ReadAsync(after, filter, int.MaxValue, int.MaxValue, entries);
        Assert.False(read.Truncated, $"a read after {after} was truncated (first retained {read.FirstRetained})");
        return entries;
    }

    private static string Marker(LogEntry entry)
    {
        using var json = JsonDocument.Parse(entry.Json);
        return json.RootElement.GetProperty("data").GetString()!;
    }

    [Fact]
    public async Task NewLog_IsEmpty_HeadZero_FirstRetainedOne_ReadsNothing()
    {
        var log = Create();
        Assert.Equal(0, log.Head);
        Assert.Equal(1, log.FirstRetained);
        Assert.Empty(log.GetTopics());
        var entries = new List<LogEntry>();
        var read = await log.ReadAsync(0, null, 10, int.MaxValue, entries);
        Assert.Empty(entries);
        Assert.Equal((0L, false), (read.ScannedTo, read.Truncated));
        Assert.Equal(LogState.Writable, (await log.CheckHealthAsync()).State);
    }

    [Fact]
    public async Task Append_Batch_GetsConsecutiveSequencesInOrder_AndMovesTheHead()
    {
        var log = Create();
        var first = await log.AppendAsync([Draft("a"), Draft("b"), Draft("a")]);
        Assert.Equal([(1L, "a", false), (2L, "b", false), (3L, "a", false)], first.Select(a => (a.Sequence, a.Topic, a.Duplicate)));
        Assert.Equal(3, log.Head);
        var second = await log.AppendAsync([Draft("c")]);
        Assert.Equal(4, Assert.Single(second).Sequence);
        Assert.Equal(4, log.Head);
        Assert.Equal([1L, 2L, 3L, 4L], (await ReadAllAsync(log)).Select(e => e.Sequence));
    }

    [Fact]
    public async Task Append_StoresTheEnvelopeWithSequenceFirst_FollowedByTheDraftsMembers()
    {
        var log = Create();
        const string body = "{\"topic\":\"orders.eu\",\"type\":\"order.created\",\"id\":\"o-1\",\"key\":\"k\",\"time\":\"2026-01-02T03:04:05.678+00:00\",\"data\":{\"n\":[1,2]},\"headers\":{\"h\":\"v\"}}";
        await log.AppendAsync([Draft("x"), new EventDraft("orders.eu", "order.created", "o-1", "k", At, Encoding.UTF8.GetBytes(body))]);
        var entry = (await ReadAllAsync(log, after: 1)).Single();
        Assert.Equal("{\"sequence\":2," + body[1..], Encoding.UTF8.GetString(entry.Json));
        Assert.Equal((2L, "orders.eu", "order.created", "o-1", "k", At), (entry.Sequence, entry.Topic, entry.Type, entry.Id, entry.Key, entry.Time));
    }

    [Fact]
    public async Task Append_EmptyBody_StillMakesValidJson()
    {
        var log = Create();
        await log.AppendAsync([new EventDraft("a", null, null, null, At, "{}"u8.ToArray())]);
        var entry = (await ReadAllAsync(log)).Single();
        Assert.Equal("{\"sequence\":1}", Encoding.UTF8.GetString(entry.Json));
        Assert.Equal(("a", (string?)null, (string?)null, (string?)null), (entry.Topic, entry.Type, entry.Id, entry.Key));
    }

    [Fact]
    public async Task Read_StartsAfterTheGivenSequence_AndAfterTheHeadReadsNothing()
    {
        var log = Create();
        await log.AppendAsync(Drafts(5));
        Assert.Equal([4L, 5L], (await ReadAllAsync(log, after: 3)).Select(e => e.Sequence));
        var entries = new List<LogEntry>();
        var read = await log.ReadAsync(5, null, 10, int.MaxValue, entries);
        Assert.Empty(entries);
        Assert.Equal((5L, false), (read.ScannedTo, read.Truncated));
    }

    [Fact]
    public async Task Read_StopsAtMaxEvents_AndScannedToIsTheLastOneRead()
    {
        var log = Create();
        await log.AppendAsync(Drafts(10));
        var entries = new List<LogEntry>();
        var read = await log.ReadAsync(2, null, 3, int.MaxValue, entries);
        Assert.Equal([3L, 4L, 5L], entries.Select(e => e.Sequence));
        Assert.Equal(5, read.ScannedTo);
    }

    [Fact]
    public async Task Read_OverTheByteBudget_StillReadsOneEntry()
    {
        var log = Create();
        await log.AppendAsync(Drafts(10));
        var entries = new List<LogEntry>();
        var read = await log.ReadAsync(0, null, 100, 1, entries);
        Assert.Equal(1L, Assert.Single(entries).Sequence);
        Assert.Equal(1, read.ScannedTo);
    }

    [Fact]
    public async Task Read_StopsOnceTheByteBudgetIsSpent()
    {
        var log = Create();
        await log.AppendAsync(Drafts(10));
        var all = await ReadAllAsync(log);
        var budget = all.Take(3).Sum(e => e.Json.Length);
        var entries = new List<LogEntry>();
        var read = await log.ReadAsync(0, null, 100, budget, entries);
        Assert.Equal([1L, 2L, 3L], entries.Select(e => e.Sequence));
        Assert.Equal(3, read.ScannedTo);
    }

    [Fact]
    public async Task Read_SkipsWhatTheFilterRejects_AndScansPastIt()
    {
        var log = Create();
        await log.AppendAsync([Draft("a"), Draft("b"), Draft("b"), Draft("a"), Draft("a")]);
        var entries = new List<LogEntry>();
        var read = await log.ReadAsync(0, new TopicIs("b"), 10, int.MaxValue, entries);
        Assert.Equal([2L, 3L], entries.Select(e => e.Sequence));
        Assert.Equal(5, read.ScannedTo);

        entries.Clear();
        read = await log.ReadAsync(0, new TopicIs("none"), 10, int.MaxValue, entries);
        Assert.Empty(entries);
        Assert.Equal(5, read.ScannedTo); // nothing matched, yet the reader need not scan those again
    }

    [Fact]
    public async Task Read_PagingFromScannedTo_YieldsEveryMatchOnceInOrder()
    {
        var log = Create();
        var topics = new[] { "a", "b", "b", "a", "c", "b", "a", "a", "b", "c", "b" };
        await log.AppendAsync(topics.Select(t => Draft(t)).ToArray());
        var got = new List<long>();
        long after = 0;
        for (var pages = 0; pages < 100 && after < log.Head; pages++)
        {
            var entries = new List<LogEntry>();
            var read = await log.ReadAsync(after, new TopicIs("b"), 2, int.MaxValue, entries);
            Assert.True(read.ScannedTo >= after, $"ScannedTo {read.ScannedTo} went back from {after}");
            Assert.True(entries.Count > 0 || read.ScannedTo > after, "a page that reads nothing must scan forward");
            got.AddRange(entries.Select(e => e.Sequence));
            after = read.ScannedTo;
        }

        Assert.Equal([2L, 3L, 6L, 9L, 11L], got);
    }

    [Fact]
    public async Task Retention_KeepsTheLastMaxEvents_AndAnEarlierReadIsTruncated()
    {
        var log = Create(maxEvents: 10);
        for (var i = 0; i < 5; i++)
        {
            await log.AppendAsync(Drafts(5));
        }

        // An engine may enforce the retention in the background: await it.
        await Eventually.TrueAsync(() => log.FirstRetained == 16, $"FirstRetained reaches 16 (it is {log.FirstRetained})", Deadline);
        Assert.Equal(25, log.Head);

        var entries = new List<LogEntry>();
        var read = await log.ReadAsync(3, null, 100, int.MaxValue, entries);
        Assert.True(read.Truncated);
        Assert.Equal(16, read.FirstRetained);
        Assert.Empty(entries);

        read = await log.ReadAsync(15, null, 100, int.MaxValue, entries);
        Assert.False(read.Truncated);
        Assert.Equal(Enumerable.Range(16, 10).Select(i => (long)i), entries.Select(e => e.Sequence));
        Assert.Equal(25, read.ScannedTo);
    }

    [Fact]
    public async Task Dedup_SameTopicAndId_AnswersTheFirstSequence_AndAppendsNothing()
    {
        var log = Create();
        await log.AppendAsync([Draft("a", "x"), Draft("a", "y")]);
        var again = await log.AppendAsync([Draft("a", "y"), Draft("a", "z"), Draft("a", "x")]);
        Assert.Equal([(2L, true), (3L, false), (1L, true)], again.Select(a => (a.Sequence, a.Duplicate)));
        Assert.Equal(["y", "z", "x"], again.Select(a => a.Id));
        Assert.Equal(3, log.Head);
        Assert.Equal(["x", "y", "z"], (await ReadAllAsync(log)).Select(e => e.Id));
    }

    [Fact]
    public async Task Dedup_IsPerTopic_TheSameIdOnAnotherTopicIsAnotherEvent()
    {
        var log = Create();
        var appended = await log.AppendAsync([Draft("a", "x"), Draft("b", "x")]);
        Assert.Equal([(1L, false), (2L, false)], appended.Select(a => (a.Sequence, a.Duplicate)));
        Assert.Equal(2, log.Head);
    }

    [Fact]
    public async Task Dedup_WithinOneBatch_TheRepeatAnswersTheFirstSequence()
    {
        var log = Create();
        var appended = await log.AppendAsync([Draft("a", "x"), Draft("b"), Draft("a", "x")]);
        Assert.Equal([(1L, false), (2L, false), (1L, true)], appended.Select(a => (a.Sequence, a.Duplicate)));
        Assert.Equal(2, log.Head);
        Assert.Equal([1L, 2L], (await ReadAllAsync(log)).Select(e => e.Sequence));
    }

    [Fact]
    public async Task Dedup_EventsWithoutAnId_AreNeverDuplicates()
    {
        var log = Create();
        await log.AppendAsync([Draft("a"), Draft("a")]);
        var again = await log.AppendAsync([Draft("a")]);
        Assert.Equal((3L, false), (again[0].Sequence, again[0].Duplicate));
    }

    [Fact]
    public async Task Dedup_RemembersAnIdForTheWindow_ThenForgetsIt()
    {
        var time = new ManualTimeProvider();
        var window = TimeSpan.FromMinutes(5);
        var log = Create(dedupWindow: window, time: time);
        await log.AppendAsync([Draft("a", "x")]);

        time.Advance(window - TimeSpan.FromSeconds(1));
        var within = await log.AppendAsync([Draft("a", "x")]);
        Assert.Equal((1L, true), (within[0].Sequence, within[0].Duplicate));

        time.Advance(TimeSpan.FromSeconds(2));
        var after = await log.AppendAsync([Draft("a", "x")]);
        Assert.Equal((2L, false), (after[0].Sequence, after[0].Duplicate));

        // The new append starts a new window for the id.
        var repeat = await log.AppendAsync([Draft("a", "x")]);
        Assert.Equal((2L, true), (repeat[0].Sequence, repeat[0].Duplicate));
        Assert.Equal(2, log.Head);
    }

    [Fact]
    public async Task ListenOnce_IsToldOfTheNextAppend_AndNotOfTheOneAfter()
    {
        var log = Create();
        var first = new CountingListener();
        log.ListenOnce(first);
        await log.AppendAsync([Draft("a")]);
        await Eventually.TrueAsync(() => first.Count == 1, "the listener is told of the append", Deadline);

        // A second listener told of the next append proves that append's notifications went out; the first is not among them.
        var second = new CountingListener();
        log.ListenOnce(second);
        await log.AppendAsync([Draft("a")]);
        await Eventually.TrueAsync(() => second.Count == 1, "the second listener is told of the second append", Deadline);
        Assert.Equal(1, first.Count);
    }

    [Fact]
    public async Task ListenOnce_WhenTold_TheHeadAlreadyShowsTheAppend()
    {
        var log = Create();
        var listener = new HeadRecordingListener(log);
        log.ListenOnce(listener);
        await log.AppendAsync(Drafts(3));
        await Eventually.TrueAsync(() => listener.HeadWhenTold is not null, "the listener is told", Deadline);
        Assert.Equal(3, listener.HeadWhenTold);
    }

    [Fact]
    public async Task GetTopics_CountsEachTopicsEvents_AndItsLastSequence()
    {
        var log = Create();
        await log.AppendAsync([Draft("b"), Draft("a"), Draft("b")]);
        await log.AppendAsync([Draft("c", "x"), Draft("c", "x"), Draft("b")]); // the duplicate is not counted
        Assert.Equal(
            [new TopicStats("a", 1, 2), new TopicStats("b", 3, 5), new TopicStats("c", 1, 4)],
            log.GetTopics().OrderBy(t => t.Topic, StringComparer.Ordinal));
    }

    [Fact]
    public async Task ConcurrentAppends_GetDistinctGapFreeSequences_EachBatchContiguousAndInOrder()
    {
        const int writers = 4, batches = 40, batchSize = 5;
        var log = Create(maxEvents: 10_000);
        var results = new List<(string Marker, long Sequence)>[writers];
        var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var mine = results[w] = [];
            for (var b = 0; b < batches; b++)
            {
                var drafts = Enumerable.Range(0, batchSize).Select(i => Draft($"w{w}", marker: $"w{w}-b{b}-i{i}")).ToArray();
                var appended = await log.AppendAsync(drafts);
                Assert.Equal(batchSize, appended.Count);
                for (var i = 0; i < batchSize; i++)
                {
                    Assert.Equal(appended[0].Sequence + i, appended[i].Sequence); // the batch is contiguous, in order
                    mine.Add(($"w{w}-b{b}-i{i}", appended[i].Sequence));
                }
            }
        })).ToArray();
        await Task.WhenAll(tasks).WaitAsync(Deadline);

        const int total = writers * batches * batchSize;
        var all = results.SelectMany(r => r).ToList();
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), all.Select(r => r.Sequence).Order());
        Assert.Equal(total, log.Head);

        // Each writer's batches are in the order it appended them, and every sequence holds the event that was answered for it.
        foreach (var mine in results)
        {
            Assert.Equal(mine.Select(r => r.Sequence).Order(), mine.Select(r => r.Sequence));
        }

        var entries = await ReadAllAsync(log);
        var answered = all.ToDictionary(r => r.Sequence, r => r.Marker);
        Assert.Equal(total, entries.Count);
        Assert.All(entries, e => Assert.Equal(answered[e.Sequence], Marker(e)));
    }

    [Fact]
    public async Task ConcurrentReader_NeverSeesPartOfABatch()
    {
        const int writers = 3, batches = 200, batchSize = 5, total = writers * batches * batchSize;
        var log = Create(maxEvents: 10_000);
        var reading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sawMidway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writing = Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            await reading.Task;
            for (var b = 0; b < batches; b++)
            {
                if (b == batches / 2)
                {
                    // However the threads are scheduled, the reader sees the log half written at least once.
                    await sawMidway.Task.WaitAsync(Deadline);
                }

                await log.AppendAsync(Enumerable.Range(0, batchSize).Select(i => Draft($"w{w}", marker: $"w{w}-b{b}-i{i}")).ToArray());
                await Task.Yield();
            }
        })));

        var midway = 0;
        var violations = new List<string>();
        reading.SetResult();
        for (var reads = 0; reads < 1_000_000 && !writing.IsCompleted; reads++)
        {
            var entries = new List<LogEntry>();
            var read = await log.ReadAsync(0, null, int.MaxValue, int.MaxValue, entries);
            if (read.ScannedTo % batchSize != 0 || entries.Count != read.ScannedTo)
            {
                violations.Add($"read {entries.Count} entries scanned to {read.ScannedTo}");
            }

            if (read.ScannedTo is > 0 and < total)
            {
                midway++;
                sawMidway.TrySetResult();
            }

            // Within each writer's events, a batch is all there or not at all: they come in whole runs of batchSize.
            foreach (var writer in entries.GroupBy(e => e.Topic))
            {
                if (writer.Count() % batchSize != 0)
                {
                    violations.Add($"{writer.Count()} events of {writer.Key} visible");
                }
            }

            await Task.Yield();
        }

        await writing.WaitAsync(Deadline);
        Assert.Empty(violations);
        Assert.Equal(total, log.Head);
        Assert.True(midway > 0, "the reader never saw the log while it was being written: the test proved nothing");
    }

    [Fact]
    public async Task ConcurrentAppends_OfTheSameTopicAndId_AppendItOnce()
    {
        var log = Create();
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () => (await log.AppendAsync([Draft("a", "same")]))[0])))
            .WaitAsync(Deadline);
        Assert.Equal(1, log.Head);
        Assert.All(answers, a => Assert.Equal(1, a.Sequence));
        Assert.Single(answers, a => !a.Duplicate);
    }

    [Fact]
    public async Task IdempotencyKey_IsScopedToItsSubject_TheSameKeyFromAnotherIsAnotherKey()
    {
        var log = Create();
        var first = await log.AppendAsync([Draft("a.x", marker: "A")], new IdempotencyKey("tenant-a", "k1"));
        var other = await log.AppendAsync([Draft("b.x", marker: "B")], new IdempotencyKey("tenant-b", "k1"));
        var anonymous = await log.AppendAsync([Draft("c.x", marker: "C")], new IdempotencyKey(IdempotencyKey.Anonymous, "k1"));
        Assert.Equal(new[] { new AppendedEvent(1, "a.x", null, false) }, first);
        Assert.Equal(new[] { new AppendedEvent(2, "b.x", null, false) }, other);
        Assert.Equal(new[] { new AppendedEvent(3, "c.x", null, false) }, anonymous);

        // Each subject's key answers its own first answer, whatever is sent with it.
        Assert.Equal(first, await log.AppendAsync([Draft("z")], new IdempotencyKey("tenant-a", "k1")));
        Assert.Equal(other, await log.AppendAsync([Draft("z")], new IdempotencyKey("tenant-b", "k1")));
        Assert.Equal(anonymous, await log.AppendAsync([Draft("z")], new IdempotencyKey(IdempotencyKey.Anonymous, "k1")));
        Assert.Equal(["A", "B", "C"], (await ReadAllAsync(log)).Select(Marker));
    }

    [Fact]
    public async Task Dedup_PastMaxDedupEntries_ForgetsTheOldestFirst()
    {
        var log = Create(configure: o => o.MaxDedupEntries = 4);
        foreach (var id in new[] { "i1", "i2", "i3" })
        {
            await log.AppendAsync([Draft("a", id)]);
        }

        // An answer of two events counts two: with it, five are remembered, one over the bound, so i1 goes first.
        var keyed = await log.AppendAsync([Draft("b", marker: "k-1"), Draft("b", marker: "k-2")], new IdempotencyKey("s", "k"));
        var i1 = await log.AppendAsync([Draft("a", "i1")]);
        Assert.Equal((6L, false), (i1[0].Sequence, i1[0].Duplicate)); // forgotten early: appended again

        // i1 again took a place: i2 was the oldest and went; the key's answer and i3 are still remembered.
        Assert.Equal(keyed, await log.AppendAsync([Draft("b")], new IdempotencyKey("s", "k")));
        var i3 = await log.AppendAsync([Draft("a", "i3")]);
        Assert.Equal((3L, true), (i3[0].Sequence, i3[0].Duplicate));
        var i2 = await log.AppendAsync([Draft("a", "i2")]);
        Assert.Equal((7L, false), (i2[0].Sequence, i2[0].Duplicate));
    }

    [Fact]
    public async Task Topics_PastMaxTopics_TheLeastRecentlyPublishedAreDropped_TheRestCountedOn()
    {
        var log = Create(configure: o => o.MaxTopics = 10);
        for (var i = 0; i < 10; i++)
        {
            await log.AppendAsync([Draft($"t{i:D2}"), Draft($"t{i:D2}")]);
        }

        await log.AppendAsync([Draft("t00")]); // t00 is now the most recent: t01, then t02, are the least
        await log.AppendAsync([Draft("t10")]); // one over: down to the bound less a tenth, the least recent first
        var topics = log.GetTopics();
        Assert.Equal(["t00", "t03", "t04", "t05", "t06", "t07", "t08", "t09", "t10"], topics.Select(t => t.Topic));
        Assert.Equal(new TopicStats("t00", 3, 21), topics[0]);
        Assert.Equal(new TopicStats("t10", 1, 22), topics[^1]);

        await log.AppendAsync([Draft("t01")]); // counted again from now on
        Assert.Equal(new TopicStats("t01", 1, 23), Assert.Single(log.GetTopics(), t => t.Topic == "t01"));
        Assert.Equal(10, log.GetTopics().Count);
    }

    [Fact]
    public async Task GroupPosition_IsKeptPerGroupIdentity_AndAGroupGoneLongerThanMaxAgeIsForgotten_ALiveOneIsNot()
    {
        var time = new ManualTimeProvider();
        var maxAge = TimeSpan.FromHours(1);
        var log = Create(time: time, configure: o => o.Retention.MaxAge = maxAge);
        var billingA = new GroupKey("billing", "aaaa");
        var billingB = new GroupKey("billing", "bbbb");
        var live = new GroupKey("live", "cccc");
        Assert.True(log.SaveGroupPosition(billingA, new GroupPosition(5, 7)));
        Assert.True(log.SaveGroupPosition(live, new GroupPosition(1, 1)));
        Assert.Null(log.GetGroupPosition(billingB)); // same name, another identity: nothing to inherit
        Assert.True(log.SaveGroupPosition(billingB, new GroupPosition(9, 9), live: false));
        Assert.Equal(new GroupPosition(5, 7), log.GetGroupPosition(billingA));
        Assert.Equal(new GroupPosition(9, 9), log.GetGroupPosition(billingB));

        Assert.True(log.SaveGroupPosition(billingA, new GroupPosition(6, 7), live: false)); // billing A's last member left
        time.Advance(maxAge - TimeSpan.FromMinutes(1));
        Assert.True(log.SaveGroupPosition(billingB, new GroupPosition(9, 9), live: false)); // B came and went again
        time.Advance(TimeSpan.FromMinutes(2));

        // A has been gone longer than MaxAge: forgotten (a store may do it in the background); B and the live group stay.
        await Eventually.TrueAsync(() => log.GetGroupPosition(billingA) is null, "billing A's position removed", Deadline);
        Assert.Equal(new GroupPosition(9, 9), log.GetGroupPosition(billingB));
        Assert.Equal(new GroupPosition(1, 1), log.GetGroupPosition(live));
    }

    [Fact]
    public void GroupPositions_PastMaxGroupPositions_ANewGroupIsRefused_AKnownOneStillSaves()
    {
        var log = Create(configure: o => o.MaxGroupPositions = 2);
        Assert.True(log.SaveGroupPosition(new GroupKey("g", "1"), new GroupPosition(1, 1)));
        Assert.True(log.SaveGroupPosition(new GroupKey("g", "2"), new GroupPosition(2, 2)));
        Assert.False(log.SaveGroupPosition(new GroupKey("g", "3"), new GroupPosition(3, 3)));
        Assert.Null(log.GetGroupPosition(new GroupKey("g", "3")));
        Assert.True(log.SaveGroupPosition(new GroupKey("g", "1"), new GroupPosition(4, 4), live: false));
        Assert.Equal(new GroupPosition(4, 4), log.GetGroupPosition(new GroupKey("g", "1")));
    }

    [Fact]
    public async Task Read_ExaminesAtMostMaxScanEvents_AndAnswersWhereItStopped_EvenWithNothingFound()
    {
        var log = Create(maxScanEvents: 100);
        await log.AppendAsync(Drafts(350));
        var filter = new CountingFilter(new TopicIs("none"));
        var entries = new List<LogEntry>();

        var read = await log.ReadAsync(0, filter, 10, int.MaxValue, entries);
        Assert.Empty(entries);
        Assert.Equal((100L, false), (read.ScannedTo, read.Truncated));
        Assert.Equal(100, filter.Calls); // each entry examined once, none past the bound

        var stops = new List<long>();
        for (var after = read.ScannedTo; after < log.Head && stops.Count < 10;)
        {
            after = (await log.ReadAsync(after, filter, 10, int.MaxValue, entries)).ScannedTo;
            stops.Add(after);
        }

        Assert.Equal([200L, 300L, 350L], stops);
        Assert.Equal(350, filter.Calls);
        Assert.Empty(entries);
    }

    [Fact]
    public async Task Read_ScanBound_AnswersTheMatchesFoundWithinIt_AndTheNextReadFindsTheRest()
    {
        var log = Create(maxScanEvents: 100);
        var topics = Enumerable.Range(1, 300).Select(i => i is 50 or 150 or 151 ? "b" : "a");
        await log.AppendAsync(topics.Select(t => Draft(t)).ToArray());
        var entries = new List<LogEntry>();

        var read = await log.ReadAsync(0, new TopicIs("b"), 10, int.MaxValue, entries);
        Assert.Equal([50L], entries.Select(e => e.Sequence));
        Assert.Equal(100, read.ScannedTo);

        entries.Clear();
        read = await log.ReadAsync(read.ScannedTo, new TopicIs("b"), 10, int.MaxValue, entries);
        Assert.Equal([150L, 151L], entries.Select(e => e.Sequence));
        Assert.Equal(200, read.ScannedTo);
    }

    [Fact]
    public async Task Read_ANonMatchingPatternOverALargeLog_AnswersEmptyPagesWhoseNextAdvancesByTheBound_UntilTheHead()
    {
        // 100,000 events, appended in batches; only the last one matches.
        const int total = 100_000, batch = 5_000;
        var log = Create(maxEvents: 200_000);
        for (var appended = 0; appended < total - batch; appended += batch)
        {
            await log.AppendAsync(Drafts(batch, "noise"));
        }

        await log.AppendAsync([.. Drafts(batch - 1, "noise"), Draft("needle", marker: "found")]);
        Assert.Equal(total, log.Head);

        var stops = new List<long>();
        var found = new List<LogEntry>();
        long after = 0;
        for (var calls = 0; calls < 100 && after < log.Head; calls++)
        {
            var entries = new List<LogEntry>();
            var read = await log.ReadAsync(after, new TopicIs("needle"), 100, int.MaxValue, entries);
            Assert.False(read.Truncated);
            found.AddRange(entries);
            stops.Add(after = read.ScannedTo);
        }

        var bound = EventLogOptions.DefaultMaxScanEvents;
        Assert.Equal(Enumerable.Range(1, total / bound).Select(i => (long)i * bound), stops);
        Assert.Equal(["found"], found.Select(Marker));
        Assert.Equal(total, Assert.Single(found).Sequence);
    }

    [Fact]
    public async Task Read_StopsAtTheEntryItIsExaminingWhenCancelled()
    {
        var log = Create();
        await log.AppendAsync(Drafts(500));
        using var cancel = new CancellationTokenSource();
        var filter = new CountingFilter(new TopicIs("none"), cancelAt: 10, cancel);
        var entries = new List<LogEntry>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await log.ReadAsync(0, filter, 100, int.MaxValue, entries, cancel.Token));
        Assert.Equal(10, filter.Calls);

        // Cancelled before it starts: nothing is examined.
        var idle = new CountingFilter(null);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await log.ReadAsync(0, idle, 100, int.MaxValue, entries, cancel.Token));
        Assert.Equal(0, idle.Calls);
    }

    [Fact]
    public async Task Epoch_IsFixedForTheLog_AndAnotherLogHasAnother()
    {
        var first = Create();
        var epoch = first.Epoch;
        Assert.False(string.IsNullOrWhiteSpace(epoch));
        Assert.True(epoch.Length <= LogEpoch.MaxLength, epoch);
        await first.AppendAsync(Drafts(3));
        Assert.Equal(epoch, first.Epoch);

        var second = Create();
        Assert.NotEqual(epoch, second.Epoch);
    }

    private sealed class TopicIs(string topic) : IEventFilter
    {
        public bool Matches(LogEntry entry) => entry.Topic == topic;
    }

    /// <summary>Counts the entries a read examines; cancels <paramref name="cancel"/> at the <paramref name="cancelAt"/>th.</summary>
    protected sealed class CountingFilter(IEventFilter? inner, int cancelAt = 0, CancellationTokenSource? cancel = null) : IEventFilter
    {
        public int Calls { get; private set; }

        public bool Matches(LogEntry entry)
        {
            if (++Calls == cancelAt)
            {
                cancel?.Cancel();
            }

            return inner?.Matches(entry) ?? true;
        }
    }

    private sealed class CountingListener : IAppendListener
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void OnAppended() => Interlocked.Increment(ref _count);
    }

    private sealed class HeadRecordingListener(IEventLog log) : IAppendListener
    {
        private long _head = -1;

        public long? HeadWhenTold => Interlocked.Read(ref _head) is var h && h >= 0 ? h : null;

        public void OnAppended() => Interlocked.Exchange(ref _head, log.Head);
    }
}
