using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hub.Log;

/// <summary>
/// The node's half of the log (see <see cref="IEventStore"/> for the store's): the <see cref="IEventLog"/> the rest of the
/// hub reads, one implementation over any store. It keeps what a node caches, all of it built from the store's feed
/// (<see cref="IStoreFeed"/>) whichever instance appended: the recent entries in memory (<see cref="EventRing"/>, with
/// their envelope bytes as the store answered them), the head readers see, the listeners waiting for the next append,
/// and the topic counters.
/// </summary>
/// <remarks>
/// <para><b>In order, never skipping.</b> Entries enter the ring only as <c>head + 1</c>, under one lock, and the head is
/// published after them. A commit of this instance (<see cref="Committed"/>) enters at once when it follows the head (the
/// short cut: no read back of what was just written); anything else (another instance's head, or a local commit with
/// foreign rows before it) is read from the store by one catch-up task, from the head on. So two nodes on one store hold
/// the same entries at the same sequences, and a reader of either sees one order.</para>
/// <para><b>Read your writes.</b> <see cref="AppendAsync"/> answers once this node's head has reached the batch, so a
/// publisher that reads next finds its events here; except while the store cannot be read to fill a hole below the
/// batch (another node's events, told but not yet read, when PostgreSQL goes away): the batch is committed, so it is
/// answered at once rather than held until the store returns, and it reaches this node's head when the hole is filled.</para>
/// <para><b>Reads</b> go to the ring when it holds the range, else to the store up to where the ring begins (the next read
/// goes on in memory): sequences decide, so there is no gap and no duplicate.</para>
/// <para><b>Starting</b>: the ring starts empty at the store's head (reads before it go to the store), and the topic
/// counters start from the store's, taken in the same snapshot (<see cref="IEventStore.Attach"/>).</para>
/// </remarks>
public sealed partial class LogTail : IEventLog, IStoreFeed, IAsyncDisposable
{
    /// <summary>How many recent entries a node keeps in memory when its engine does not say (<c>Hub:Log:Sqlite:TailEvents</c> does for SQLite).</summary>
    public const int DefaultCapacity = 10_000;

    /// <summary>The most entries one catch-up read brings from the store.</summary>
    internal const int CatchUpBatch = 1024;

    private const int CatchUpBytes = 4 * 1024 * 1024;
    private static readonly TimeSpan MaxCatchUpWait = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan CatchUpRetry = TimeSpan.FromSeconds(1);

    private readonly IEventStore _store;
    private readonly EventRing _ring;
    private readonly TopicCounters _topics;
    private readonly AppendNotifier _notifier = new();
    private readonly Lock _ingest = new();
    private readonly int _maxScan;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private long _knownHead;   // the highest head the store told of (under _ingest)
    private int _catchingUp;   // 1 while the catch-up task runs
    private int _catchUpFailing; // 1 from a failed catch-up read to the next one that succeeds
    private Task _catchUp = Task.CompletedTask;

    /// <summary>Attaches to <paramref name="store"/> (which it owns from now on, and disposes) and starts at its head.</summary>
    /// <param name="store">The store.</param>
    /// <param name="options">The log's settings (<c>MaxTopics</c>, <c>MaxScanEvents</c>).</param>
    /// <param name="capacity">How many recent entries to keep in memory.</param>
    /// <param name="logger">Where a failing catch-up read is said.</param>
    public LogTail(IEventStore store, EventLogOptions options, int capacity = DefaultCapacity, ILogger<LogTail>? logger = null)
    {
        _store = store;
        _ring = new EventRing(capacity);
        _topics = new TopicCounters(options.MaxTopics);
        _maxScan = options.MaxScanEvents;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        lock (_ingest)
        {
            // Under the lock: a head the feed tells meanwhile waits for the start to be known.
            var snapshot = store.Attach(this);
            foreach (var topic in snapshot.Topics)
            {
                _topics.Add(topic.Topic, topic.LastSequence, topic.Count);
            }

            _topics.EvictOverflow();
            _ring.TrimTo(snapshot.Head + 1);
            _ring.Publish(snapshot.Head);
            _knownHead = snapshot.Head;
        }
    }

    /// <summary>The store under this node's memory.</summary>
    public IEventStore Store => _store;

    /// <inheritdoc />
    public long Head => _ring.Head;

    /// <inheritdoc />
    public long FirstRetained => Math.Min(_store.FirstRetained, Head + 1);

    /// <inheritdoc />
    public string Epoch => _store.Epoch;

    /// <summary>How many recent entries are kept in memory at most.</summary>
    public int Capacity => _ring.Capacity;

    /// <summary>How many listeners wait for the next append.</summary>
    internal int ListenerCount => _notifier.Count;

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<AppendedEvent>> AppendAsync(IReadOnlyList<EventDraft> events, IdempotencyKey? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        var appending = _store.AppendAsync(events, idempotencyKey, cancellationToken);
        if (appending.IsCompletedSuccessfully)
        {
            var answers = appending.Result;
            return LastOf(answers) <= Head ? new ValueTask<IReadOnlyList<AppendedEvent>>(answers) : WaitForAsync(answers, cancellationToken);
        }

        return AppendSlowAsync(appending, cancellationToken);
    }

    private async ValueTask<IReadOnlyList<AppendedEvent>> AppendSlowAsync(ValueTask<IReadOnlyList<AppendedEvent>> appending, CancellationToken cancellationToken)
    {
        var answers = await appending.ConfigureAwait(false);
        return LastOf(answers) <= Head ? answers : await WaitForAsync(answers, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Answers once this node's head has reached every sequence answered (the feed brings them).</summary>
    private async ValueTask<IReadOnlyList<AppendedEvent>> WaitForAsync(IReadOnlyList<AppendedEvent> answers, CancellationToken cancellationToken)
    {
        var last = LastOf(answers);
        while (Head < last && Volatile.Read(ref _catchUpFailing) == 0)
        {
            var waiter = new HeadWaiter();
            _notifier.ListenOnce(waiter);
            if (Head >= last || Volatile.Read(ref _catchUpFailing) == 1)
            {
                break;
            }

            await waiter.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return answers;
    }

    private static long LastOf(IReadOnlyList<AppendedEvent> answers)
    {
        var last = 0L;
        for (var i = 0; i < answers.Count; i++)
        {
            last = Math.Max(last, answers[i].Sequence);
        }

        return last;
    }

    /// <inheritdoc />
    public async ValueTask<LogRead> ReadAsync(long after, IEventFilter? filter, int maxEvents, int maxBytes, List<LogEntry> into, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(after);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEvents, 1);
        var head = Head;
        var first = FirstRetained;
        if (after + 1 < first)
        {
            return new LogRead(after, Truncated: true, first);
        }

        if (after + 1 >= _ring.First)
        {
            var read = _ring.Read(after, filter, maxEvents, maxBytes, _maxScan, into, cancellationToken);
            if (!read.Truncated)
            {
                return read with { FirstRetained = first };
            }
        }

        // Before the ring: from the store, up to where the ring begins (never past this node's head), then on in the ring
        // while the read has room left, so one read answers as much as it would from one place.
        var upTo = Math.Min(head, Math.Max(_ring.First - 1, after));
        var before = into.Count;
        var stored = await _store.ReadAsync(after, upTo, filter, maxEvents, maxBytes, into, cancellationToken).ConfigureAwait(false);
        var taken = into.Count - before;
        var bytes = 0;
        for (var i = before; i < into.Count; i++)
        {
            bytes += into[i].Json.Length;
        }

        var scanLeft = _maxScan - (stored.ScannedTo - after);
        if (stored.Truncated || stored.ScannedTo < upTo || upTo >= head || taken >= maxEvents || (taken > 0 && bytes >= maxBytes) || scanLeft <= 0)
        {
            return stored;
        }

        var rest = _ring.Read(stored.ScannedTo, filter, maxEvents - taken, taken > 0 ? maxBytes - bytes : maxBytes, (int)scanLeft, into, cancellationToken);
        if (!rest.Truncated)
        {
            return rest with { FirstRetained = first };
        }

        // The ring moved on past where the store's read stopped (appends ran while it read; a small tail shows it): the
        // rest from the store too, up to the head this read began at, so that the read still ends where a commit did.
        var more = await _store.ReadAsync(stored.ScannedTo, Math.Min(head, stored.ScannedTo + scanLeft), filter, maxEvents - taken, taken > 0 ? maxBytes - bytes : maxBytes, into, cancellationToken).ConfigureAwait(false);
        return more.Truncated ? stored with { FirstRetained = first } : more with { FirstRetained = first };
    }

    /// <inheritdoc />
    public async ValueTask<long> ReachAsync(long sequence, CancellationToken cancellationToken = default)
    {
        if (Head >= sequence)
        {
            return Head;
        }

        // Does the store hold it? One entry read at the sequence (or the read says retention has removed it, so it was
        // there): then the feed's head is behind the store's, and the catch-up brings this node to it.
        var probe = new List<LogEntry>(1);
        var read = await _store.ReadAsync(sequence - 1, sequence, null, 1, int.MaxValue, probe, cancellationToken).ConfigureAwait(false);
        if (probe.Count == 0 && !read.Truncated)
        {
            return Head;
        }

        HeadMoved(sequence);
        while (Head < sequence)
        {
            var waiter = new HeadWaiter();
            _notifier.ListenOnce(waiter);
            if (Head >= sequence)
            {
                break;
            }

            await waiter.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return Head;
    }

    /// <inheritdoc />
    public void ListenOnce(IAppendListener listener) => _notifier.ListenOnce(listener);

    /// <inheritdoc />
    public GroupPosition? GetGroupPosition(GroupKey group) => _store.GetGroupPosition(group);

    /// <inheritdoc />
    public bool SaveGroupPosition(GroupKey group, GroupPosition position, bool live = true) => _store.SaveGroupPosition(group, position, live);

    /// <inheritdoc />
    public IGroupLeases GroupLeases => _store.GroupLeases;

    /// <inheritdoc />
    public IReadOnlyList<TopicStats> GetTopics() => _topics.Snapshot();

    /// <inheritdoc />
    public ValueTask<LogHealth> CheckHealthAsync(CancellationToken cancellationToken = default) => _store.CheckHealthAsync(cancellationToken);

    /// <inheritdoc />
    void IStoreFeed.Committed(IReadOnlyList<LogEntry> entries) => Committed(entries);

    /// <inheritdoc />
    void IStoreFeed.HeadMoved(long head) => HeadMoved(head);

    /// <summary>This instance's commit: in at once when it follows the head, else read from the store in order.</summary>
    internal void Committed(IReadOnlyList<LogEntry> entries)
    {
        if (entries.Count == 0)
        {
            return;
        }

        bool added, behind;
        lock (_ingest)
        {
            var last = entries[^1].Sequence;
            _knownHead = Math.Max(_knownHead, last);
            added = entries[0].Sequence <= _ring.Head + 1 && Ingest(entries);
            behind = _ring.Head < _knownHead;
        }

        if (added)
        {
            _notifier.Notify();
        }

        if (behind)
        {
            StartCatchUp();
        }
    }

    /// <summary>Another instance's commit (or this one's, seen again): what this node lacks is read from the store.</summary>
    internal void HeadMoved(long head)
    {
        lock (_ingest)
        {
            if (head <= _knownHead && _ring.Head >= _knownHead)
            {
                return;
            }

            _knownHead = Math.Max(_knownHead, head);
        }

        StartCatchUp();
    }

    /// <summary>Puts the entries that follow the head into the ring, counts them, publishes the head (under <see cref="_ingest"/>).</summary>
    private bool Ingest(IReadOnlyList<LogEntry> entries)
    {
        var head = _ring.Head;
        foreach (var entry in entries)
        {
            if (entry.Sequence <= head)
            {
                continue; // already here (a catch-up read it first)
            }

            if (entry.Sequence != head + 1)
            {
                break; // never past a hole: the catch-up reads it from the store
            }

            _ring.Write(entry);
            _topics.Add(entry.Topic, entry.Sequence);
            head++;
        }

        if (head == _ring.Head)
        {
            return false;
        }

        _topics.EvictOverflow();
        _ring.Publish(head);
        AssertInvariants();
        return true;
    }

    private void StartCatchUp()
    {
        if (_stopping.IsCancellationRequested || Interlocked.CompareExchange(ref _catchingUp, 1, 0) != 0)
        {
            return;
        }

        _catchUp = Task.Run(CatchUpAsync);
    }

    /// <summary>
    /// Reads from the store what this node lacks, in order, until its head is the highest the store told of. One at a
    /// time. A store whose readers' horizon is behind the head it told (PostgreSQL, a transaction still open under it)
    /// answers nothing yet: the task looks again after a short wait that grows to <see cref="MaxCatchUpWait"/>. A read that
    /// fails is said and tried again every <see cref="CatchUpRetry"/>: the events are in the store, only late here.
    /// </summary>
    private async Task CatchUpAsync()
    {
        var batch = new List<LogEntry>(CatchUpBatch);
        var wait = TimeSpan.FromMilliseconds(1);
        while (true)
        {
            long from, target;
            lock (_ingest)
            {
                from = _ring.Head;
                target = _knownHead;
            }

            if (from >= target || _stopping.IsCancellationRequested)
            {
                Volatile.Write(ref _catchingUp, 0);
                // A head told after the look above and before the flag fell found the task running: look once more.
                lock (_ingest)
                {
                    if (_ring.Head >= _knownHead || _stopping.IsCancellationRequested || Interlocked.CompareExchange(ref _catchingUp, 1, 0) != 0)
                    {
                        return;
                    }
                }

                continue;
            }

            batch.Clear();
            LogRead read;
            try
            {
                read = await _store.ReadAsync(from, target, null, CatchUpBatch, CatchUpBytes, batch, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                Volatile.Write(ref _catchingUp, 0);
                return;
            }
            catch (Exception ex)
            {
                Log.CatchUpFailed(_logger, ex, from, target);
                // Appenders waiting for the head to pass the hole are answered now: their events are committed.
                Volatile.Write(ref _catchUpFailing, 1);
                _notifier.Notify();
                if (!await DelayAsync(CatchUpRetry).ConfigureAwait(false))
                {
                    Volatile.Write(ref _catchingUp, 0);
                    return;
                }

                continue;
            }

            Volatile.Write(ref _catchUpFailing, 0);
            bool added;
            lock (_ingest)
            {
                if (read.Truncated && _ring.Head < read.FirstRetained - 1)
                {
                    // Retention removed what this node lacked before it could read it: it starts again where the store does.
                    Log.CatchUpTruncated(_logger, _ring.Head, read.FirstRetained);
                    _ring.TrimTo(read.FirstRetained);
                    _ring.Publish(read.FirstRetained - 1);
                    added = true;
                }
                else
                {
                    added = Ingest(batch);
                }
            }

            if (added)
            {
                _notifier.Notify();
                wait = TimeSpan.FromMilliseconds(1);
            }
            else if (!await DelayAsync(wait).ConfigureAwait(false))
            {
                Volatile.Write(ref _catchingUp, 0);
                return;
            }
            else
            {
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, MaxCatchUpWait.Ticks));
            }
        }
    }

    /// <summary>Waits, unless the node is stopping (then false).</summary>
    private async Task<bool> DelayAsync(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _stopping.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Stops the catch-up and disposes the store.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        _stopping.Cancel();
        await _catchUp.ConfigureAwait(false);
        await _store.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_ring.Head >= 0, "the head is never negative");
        Debug.Assert(_ring.Head == 0 || _ring.Get(_ring.Head)?.Sequence == _ring.Head || _ring.First > _ring.Head, "the head's slot holds the head");
    }

    /// <summary>Completes when the head moves (one-shot; continuations run outside the notifier).</summary>
    private sealed class HeadWaiter : IAppendListener
    {
        private readonly TaskCompletionSource _moved = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Task => _moved.Task;

        public void OnAppended() => _moved.TrySetResult();
    }
}
