using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hub.Server.Log;

/// <summary>
/// The log in memory (<c>"Hub:Log:Kind": "Memory"</c>): a ring of the last <c>MaxEvents</c> entries, also trimmed by
/// <c>MaxAge</c>. Appends are serialised by a lock; readers never lock (see <see cref="EventRing"/>). Nothing survives
/// a restart.
/// </summary>
public sealed class MemoryEventLog : IEventLog
{
    private readonly EventRing _ring;
    private readonly TimeSpan _maxAge;
    private readonly int _maxScan;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Deduplicator _dedup;
    private readonly TopicCounters _topics;
    private readonly AppendNotifier _notifier = new();
    private readonly GroupPositions _groups;

    /// <summary>Creates the log from its options.</summary>
    public MemoryEventLog(IOptions<EventLogOptions> options, TimeProvider? time = null, ILogger<MemoryEventLog>? logger = null)
    {
        var o = options.Value;
        _ring = new EventRing(o.Retention.MaxEvents);
        _maxAge = o.Retention.MaxAge;
        _maxScan = o.MaxScanEvents;
        _dedup = new Deduplicator(o.DedupWindow, o.MaxDedupEntries, logger);
        _topics = new TopicCounters(o.MaxTopics);
        _groups = new GroupPositions(o.MaxGroupPositions);
        _time = time ?? TimeProvider.System;
    }

    /// <inheritdoc />
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

    /// <summary>How many entries the ring holds at most.</summary>
    public int Capacity => _ring.Capacity;

    /// <summary>How many listeners wait for the next append.</summary>
    internal int ListenerCount => _notifier.Count;

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<AppendedEvent>> AppendAsync(IReadOnlyList<EventDraft> events, IdempotencyKey? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        AppendedEvent[] results;
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            _dedup.Expire(now);
            if (idempotencyKey is { } key && _dedup.TryGetAnswer(key, out var earlier))
            {
                return new ValueTask<IReadOnlyList<AppendedEvent>>(earlier);
            }

            var head = _ring.Head;
            var entries = new List<LogEntry>(events.Count);
            results = SequenceAssigner.Assign(events, ref head, _dedup, now, entries, newIds: null);
            foreach (var entry in entries)
            {
                _ring.Write(entry);
                _topics.Add(entry.Topic, entry.Sequence);
            }

            _topics.EvictOverflow();
            if (idempotencyKey is { } newKey)
            {
                _dedup.RememberAnswer(newKey, results, now);
            }

            // Publish the head only after every slot of the batch is written: readers see all of it or none.
            _ring.Publish(head);
            AssertInvariants();
        }

        _notifier.Notify();
        return new ValueTask<IReadOnlyList<AppendedEvent>>(results);
    }

    /// <inheritdoc />
    public ValueTask<LogRead> ReadAsync(long after, IEventFilter? filter, int maxEvents, int maxBytes, List<LogEntry> into, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(after);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEvents, 1);
        TrimByAge();
        return new ValueTask<LogRead>(_ring.Read(after, filter, maxEvents, maxBytes, _maxScan, into, cancellationToken));
    }

    /// <inheritdoc />
    public void ListenOnce(IAppendListener listener) => _notifier.ListenOnce(listener);

    /// <inheritdoc />
    public IReadOnlyList<TopicStats> GetTopics() => _topics.Snapshot();

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

    /// <summary>Moves the ring's floor past entries older than <c>MaxAge</c> (cheap: it stops at the first young one).</summary>
    private void TrimByAge()
    {
        var cutoff = _time.GetUtcNow() - _maxAge;
        var first = _ring.First;
        var head = _ring.Head;
        while (first <= head && _ring.Get(first) is { } entry && entry.Time < cutoff)
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
