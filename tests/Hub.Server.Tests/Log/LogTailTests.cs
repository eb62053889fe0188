using System.Text;
using Hub.Log;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests.Log;

/// <summary>
/// The node's half of the log over a store the test drives (<see cref="ScriptedStore"/>): what the feed tells it enters
/// in sequence order only, from the store when it does not follow the head, never past what the store lets readers see.
/// </summary>
public sealed class LogTailTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly ScriptedStore _store = new();
    private LogTail _tail = null!;

    public Task InitializeAsync()
    {
        _tail = new LogTail(_store, new EventLogOptions(), capacity: 64);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _tail.DisposeAsync();

    private static LogEntry Entry(long sequence, string topic = "a") =>
        new(sequence, topic, "t", null, null, DateTimeOffset.UnixEpoch, Encoding.UTF8.GetBytes($"{{\"sequence\":{sequence},\"topic\":\"{topic}\"}}"));

    private static async Task<List<LogEntry>> ReadAllAsync(IEventLog log)
    {
        var entries = new List<LogEntry>();
        await log.ReadAsync(0, null, 1000, int.MaxValue, entries);
        return entries;
    }

    [Fact]
    public async Task ACommitThatFollowsTheHead_IsInAtOnce_WithoutReadingTheStore()
    {
        var entries = _store.Add(Entry(1), Entry(2, "b"));
        ((IStoreFeed)_tail).Committed(entries);

        Assert.Equal(2, _tail.Head); // before Committed returned: the appender is answered after it
        Assert.Equal(0, _store.Reads);
        Assert.Equal(entries, await ReadAllAsync(_tail));
        Assert.Equal([new TopicStats("a", 1, 1), new TopicStats("b", 1, 2)], _tail.GetTopics());
    }

    [Fact]
    public async Task ACommitAfterAHole_IsNotTakenBeforeTheHole_TheStoreFillsItInOrder()
    {
        // Another instance committed 1 and 2; this one's commit of 3 and 4 is told first.
        var foreign = _store.Add(Entry(1), Entry(2));
        var own = _store.Add(Entry(3), Entry(4));
        ((IStoreFeed)_tail).Committed(own);

        await Eventually.TrueAsync(() => _tail.Head == 4, $"the head reaches 4 (it is {_tail.Head})", Deadline);
        Assert.Equal(foreign.Concat(own), await ReadAllAsync(_tail));
        Assert.Equal([new TopicStats("a", 4, 4)], _tail.GetTopics());

        // Told again, late: nothing moves and nothing is counted twice.
        ((IStoreFeed)_tail).Committed(foreign);
        Assert.Equal([new TopicStats("a", 4, 4)], _tail.GetTopics());
    }

    [Fact]
    public async Task AHeadMoved_IsReadFromTheStore_AndWakesTheListeners()
    {
        var woken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _tail.ListenOnce(new Listener(woken));
        var foreign = _store.Add(Entry(1), Entry(2), Entry(3));
        ((IStoreFeed)_tail).HeadMoved(3);

        await woken.Task.WaitAsync(Deadline);
        await Eventually.TrueAsync(() => _tail.Head == 3, $"the head reaches 3 (it is {_tail.Head})", Deadline);
        var read = await ReadAllAsync(_tail);
        Assert.Equal(foreign, read);
        Assert.Same(foreign[0], read[0]); // the store's entry, its bytes as the store answered them
    }

    [Fact]
    public async Task TheHeadNeverPassesWhatTheStoreLetsReadersSee()
    {
        _store.Add(Entry(1), Entry(2), Entry(3), Entry(4));
        _store.Horizon = 2; // 3 may still be committing under a transaction that began before 4's
        ((IStoreFeed)_tail).HeadMoved(4);

        await Eventually.TrueAsync(() => _tail.Head == 2, $"the head reaches the horizon (it is {_tail.Head})", Deadline);
        var readsAtTheHorizon = _store.Reads;
        await Eventually.TrueAsync(() => _store.Reads > readsAtTheHorizon, "the node looks again", Deadline);
        Assert.Equal(2, _tail.Head);

        _store.Horizon = 4;
        await Eventually.TrueAsync(() => _tail.Head == 4, $"the head reaches 4 once the horizon does (it is {_tail.Head})", Deadline);
        Assert.Equal([1L, 2L, 3L, 4L], (await ReadAllAsync(_tail)).Select(e => e.Sequence));
    }

    /// <summary>Another node appended 1 to 3 and this node's feed has not told it yet (a client learnt 3 there): reaching 3
    /// reads it from the store, and this node's head is there when the call answers.</summary>
    [Fact]
    public async Task Reach_ASequenceTheStoreHoldsAndTheFeedHasNotTold_CatchesUpToIt()
    {
        var foreign = _store.Add(Entry(1), Entry(2), Entry(3));

        Assert.Equal(3, await _tail.ReachAsync(3).AsTask().WaitAsync(Deadline));
        Assert.Equal(3, _tail.Head);
        Assert.Equal(foreign, await ReadAllAsync(_tail));
    }

    /// <summary>A sequence the store does not hold (from another log): the head answered is below it, and nothing moves.</summary>
    [Fact]
    public async Task Reach_ASequenceTheStoreDoesNotHold_AnswersTheHeadBelowIt()
    {
        ((IStoreFeed)_tail).Committed(_store.Add(Entry(1)));

        Assert.Equal(1, await _tail.ReachAsync(5).AsTask().WaitAsync(Deadline));
        Assert.Equal(1, await _tail.ReachAsync(1).AsTask().WaitAsync(Deadline));
        Assert.Equal(1, _tail.Head);
    }

    [Fact]
    public async Task AReadThatStartsInTheStore_GoesOnInTheRing_InOnePage()
    {
        // A node started over a store holding 1 and 2: its ring begins at 3.
        var store = new ScriptedStore { StartHead = 2 };
        var stored = store.Add(Entry(1), Entry(2));
        await using var tail = new LogTail(store, new EventLogOptions(), capacity: 64);
        var own = store.Add(Entry(3), Entry(4));
        ((IStoreFeed)tail).Committed(own);

        var entries = new List<LogEntry>();
        var read = await tail.ReadAsync(0, null, 1000, int.MaxValue, entries);
        Assert.Equal(stored.Concat(own), entries);
        Assert.Equal((4L, false), (read.ScannedTo, read.Truncated));

        // Bounded as one read: three events asked, three answered, the next read goes on after the third.
        entries.Clear();
        read = await tail.ReadAsync(0, null, 3, int.MaxValue, entries);
        Assert.Equal([1L, 2L, 3L], entries.Select(e => e.Sequence));
        Assert.Equal(3, read.ScannedTo);
    }

    /// <summary>
    /// An append committed above a hole this node cannot fill now (another node's events, told by the feed, when the store
    /// stops answering reads): it is answered, not held until the store returns; the head passes it once the hole is read.
    /// </summary>
    [Fact]
    public async Task AnAppendCommittedAboveAHoleTheStoreCannotReadNow_IsAnswered_AndReachesTheHeadOnceItCan()
    {
        var foreign = _store.Add(Entry(1), Entry(2)); // another node's commit, not yet told here
        _store.Unreadable = true;
        _store.NextCommit = [Entry(3)];

        var answers = await _tail.AppendAsync([new EventDraft("a", "t", null, null, DateTimeOffset.UnixEpoch, "{}"u8.ToArray())]).AsTask().WaitAsync(Deadline);
        Assert.Equal([new AppendedEvent(3, "a", null, false)], answers);
        Assert.Equal(0, _tail.Head); // answered before this node has it: the hole could not be read

        _store.Unreadable = false;
        await Eventually.TrueAsync(() => _tail.Head == 3, $"the head reaches 3 once the store reads again (it is {_tail.Head})", Deadline);
        Assert.Equal(foreign.Append(_store.NextCommit[0]), await ReadAllAsync(_tail));
    }

    private sealed class Listener(TaskCompletionSource woken) : IAppendListener
    {
        public void OnAppended() => woken.TrySetResult();
    }

    /// <summary>A store the test writes rows into, with a readers' horizon it moves; it counts its reads.</summary>
    private sealed class ScriptedStore : IEventStore
    {
        private readonly Lock _gate = new();
        private readonly List<LogEntry> _rows = [];
        private long _horizon = long.MaxValue;
        private int _reads;

        public long Horizon { get => Volatile.Read(ref _horizon); set => Volatile.Write(ref _horizon, value); }

        public int Reads => Volatile.Read(ref _reads);

        public string Epoch => "scripted";

        public long FirstRetained => 1;

        public LogEntry[] Add(params LogEntry[] entries)
        {
            lock (_gate)
            {
                _rows.AddRange(entries);
            }

            return entries;
        }

        public long StartHead { get; init; }

        private IStoreFeed? _feed;

        /// <summary>While true, every read fails as a store that cannot be reached does.</summary>
        public bool Unreadable { get; set; }

        /// <summary>What the next append commits: added, told to the feed as the store's writer does, and answered.</summary>
        public LogEntry[]? NextCommit { get; set; }

        public StoreSnapshot Attach(IStoreFeed feed)
        {
            _feed = feed;
            return new(StartHead, []);
        }

        public ValueTask<IReadOnlyList<AppendedEvent>> AppendAsync(IReadOnlyList<EventDraft> events, IdempotencyKey? idempotencyKey, CancellationToken cancellationToken)
        {
            var committed = NextCommit ?? throw new NotSupportedException("the test tells the feed itself, or sets NextCommit");
            Add(committed);
            _feed!.Committed(committed);
            return new(committed.Select(e => new AppendedEvent(e.Sequence, e.Topic, null, false)).ToArray());
        }

        public ValueTask<LogRead> ReadAsync(long after, long upTo, IEventFilter? filter, int maxEvents, int maxBytes, List<LogEntry> into, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _reads);
            if (Unreadable)
            {
                throw new LogUnavailableException("the log cannot be read now: scripted", TimeSpan.FromSeconds(1));
            }

            var end = Math.Min(upTo, Horizon);
            var position = after;
            lock (_gate)
            {
                foreach (var row in _rows.Where(r => r.Sequence > after && r.Sequence <= end).OrderBy(r => r.Sequence).Take(maxEvents))
                {
                    into.Add(row);
                    position = row.Sequence;
                }
            }

            return new ValueTask<LogRead>(new LogRead(position, Truncated: false, 1));
        }

        public GroupPosition? GetGroupPosition(GroupKey group) => null;

        public bool SaveGroupPosition(GroupKey group, GroupPosition position, bool live) => false;

        public ValueTask<LogHealth> CheckHealthAsync(CancellationToken cancellationToken) => new(LogHealth.Writable("scripted"));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
