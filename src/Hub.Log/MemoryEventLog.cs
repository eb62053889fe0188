using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hub.Log;

/// <summary>
/// The store in memory (<c>"Hub:Log:Kind": "Memory"</c>): a ring of the last <c>MaxEvents</c> entries, also trimmed by
/// <c>MaxAge</c>; past the node's tail its entries are bytes in segments, not objects (see <see cref="EventRing"/>). Appends are serialised by a lock, which is the store's "transaction": sequences, dedup and idempotency
/// answers are decided under it. Readers never lock (see <see cref="EventRing"/>). One instance only: nothing is shared
/// with another process, and nothing survives a restart.
/// </summary>
public sealed class MemoryEventLog : IEventStore
{
    private readonly EventRing _ring;
    private readonly TimeSpan _maxAge;
    private readonly int _maxScan;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Deduplicator _dedup;
    private readonly GroupPositions _groups;
    private IStoreFeed? _feed;

    /// <summary>Creates the log from its options.</summary>
    public MemoryEventLog(IOptions<EventLogOptions> options, TimeProvider? time = null, ILogger<MemoryEventLog>? logger = null)
        : this(options, time, logger, TailCapacity(options.Value))
    {
    }

    /// <summary>Creates the log keeping <paramref name="hotCapacity"/> entries as objects (tests make it small, so that reads meet the cold segments).</summary>
    internal MemoryEventLog(IOptions<EventLogOptions> options, TimeProvider? time, ILogger<MemoryEventLog>? logger, int hotCapacity)
    {
        var o = options.Value;
        // Hot as far as the node's tail (the same objects: LogTail holds them too), so MessagePack made for live
        // subscribers is kept with an entry as it goes cold; the rest of the retention window is bytes in segments.
        _ring = new EventRing(o.Retention.MaxEvents, hotCapacity);
        _maxAge = o.Retention.MaxAge;
        _maxScan = o.MaxScanEvents;
        _dedup = new Deduplicator(o.DedupWindow, o.MaxDedupEntries, logger);
        _groups = new GroupPositions(o.MaxGroupPositions);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The store's head: the last sequence appended.</summary>
    public long Head => _ring.Head;

    /// <inheritdoc />
    /// <remarks>A new one per instance: nothing of this log outlives it.</remarks>
    public string Epoch { get; } = LogEpoch.New();

    /// <inheritdoc />
    public long FirstRetained
    {
        get
        {
            TrimByAge();
            return _ring.First;
        }
    }

    /// <summary>How many recent entries its node keeps in memory: <see cref="LogTail.DefaultCapacity"/>, at most <c>MaxEvents</c>
    /// (older ones are read from this store, in memory too).</summary>
    public static int TailCapacity(EventLogOptions options) => Math.Min(options.Retention.MaxEvents, LogTail.DefaultCapacity);

    /// <summary>How many entries the ring holds at most.</summary>
    public int Capacity => _ring.Capacity;

    /// <summary>The ring (for tests).</summary>
    internal EventRing Ring => _ring;

    /// <inheritdoc />
    /// <remarks>Nothing is stored before: the snapshot is the empty log (topics are counted by the node).</remarks>
    public StoreSnapshot Attach(IStoreFeed feed)
    {
        lock (_gate)
        {
            if (_feed is not null)
            {
                throw new InvalidOperationException("The memory log has one node: it is attached already.");
            }

            _feed = feed;
            return new StoreSnapshot(_ring.Head, []);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<AppendedEvent>> AppendAsync(IReadOnlyList<EventDraft> events, IdempotencyKey? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        var feed = _feed ?? throw new InvalidOperationException("The memory log is not attached to a node yet.");
        AppendedEvent[] results;
        List<LogEntry> entries;
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            _dedup.Expire(now);
            if (idempotencyKey is { } key && _dedup.TryGetAnswer(key, out var earlier))
            {
                return new ValueTask<IReadOnlyList<AppendedEvent>>(earlier);
            }

            var head = _ring.Head;
            entries = new List<LogEntry>(events.Count);
            results = SequenceAssigner.Assign(events, ref head, _dedup, now, entries, newIds: null);
            foreach (var entry in entries)
            {
                _ring.Write(entry);
            }

            if (idempotencyKey is { } newKey)
            {
                _dedup.RememberAnswer(newKey, results, now);
            }

            // Publish the head only after every slot of the batch is written: readers see all of it or none.
            _ring.Publish(head);
            AssertInvariants();
        }

        // Outside the lock (the node wakes its readers from there). Two appends racing may tell the feed out of order: the
        // node then reads the missing one from this store, in order (see LogTail).
        if (entries.Count > 0)
        {
            feed.Committed(entries);
        }

        return new ValueTask<IReadOnlyList<AppendedEvent>>(results);
    }

    /// <inheritdoc />
    public ValueTask<LogRead> ReadAsync(long after, long upTo, IEventFilter? filter, int maxEvents, int maxBytes, List<LogEntry> into, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(after);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEvents, 1);
        TrimByAge();
        var maxScan = (int)Math.Clamp(upTo - after, 0, _maxScan);
        if (maxScan == 0)
        {
            return new ValueTask<LogRead>(new LogRead(after, Truncated: after + 1 < _ring.First, _ring.First));
        }

        return new ValueTask<LogRead>(_ring.Read(after, filter, maxEvents, maxBytes, maxScan, into, cancellationToken));
    }

    /// <inheritdoc />
    public GroupPosition? GetGroupPosition(GroupKey group)
    {
        _groups.ExpireIfDue(_time.GetUtcNow(), _maxAge);
        return _groups.Get(group);
    }

    /// <inheritdoc />
    public bool SaveGroupPosition(GroupKey group, GroupPosition position, bool live = true)
    {
        var now = _time.GetUtcNow();
        _groups.ExpireIfDue(now, _maxAge);
        return _groups.TrySave(group, position, live ? null : now);
    }

    /// <inheritdoc />
    public ValueTask<LogHealth> CheckHealthAsync(CancellationToken cancellationToken = default) => new(LogHealth.Writable($"in memory, head {Head}"));

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Moves the ring's floor past entries older than <c>MaxAge</c> (cheap: it stops at the first young one).</summary>
    private void TrimByAge()
    {
        var cutoff = _time.GetUtcNow() - _maxAge;
        var first = _ring.First;
        var head = _ring.Head;
        while (first <= head && _ring.TryGetTime(first, out var time) && time < cutoff)
        {
            first++;
        }

        _ring.TrimTo(first);
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_ring.Head >= 0, "the head is never negative");
        Debug.Assert(_ring.Head == 0 || _ring.Get(_ring.Head)?.Sequence == _ring.Head || _ring.First > _ring.Head, "the head's slot holds the head");
    }
}
