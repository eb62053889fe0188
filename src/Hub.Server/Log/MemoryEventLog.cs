using System.Buffers.Text;
using System.Diagnostics;
using Microsoft.Extensions.Options;

namespace Hub.Server.Log;

/// <summary>
/// The log in memory: a ring of the last <c>MaxEvents</c> entries indexed by sequence. One writer at a time appends
/// under a lock; readers never lock: they read the published head, then the ring slots, and check each slot's
/// sequence, so a slot overwritten under a slow reader is seen as truncation, never as a wrong event.
/// </summary>
public sealed class MemoryEventLog : IEventLog
{
    private readonly LogEntry?[] _ring;
    private readonly TimeSpan _dedupWindow;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Topic, string Id), long> _dedup = new();
    private readonly Queue<(DateTimeOffset At, string Topic, string Id)> _dedupOrder = new();
    private readonly Dictionary<string, TopicCounter> _topics = new(StringComparer.Ordinal);
    private List<IAppendListener> _listeners = new();
    private long _head;

    /// <summary>Creates the log from its options.</summary>
    public MemoryEventLog(IOptions<EventLogOptions> options, TimeProvider? time = null)
    {
        var o = options.Value;
        _ring = new LogEntry?[o.Retention.MaxEvents];
        _dedupWindow = o.DedupWindow;
        _time = time ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public long Head => Volatile.Read(ref _head);

    /// <inheritdoc />
    public long FirstRetained => Math.Max(1, Head - _ring.Length + 1);

    /// <summary>How many listeners wait for the next append.</summary>
    internal int ListenerCount
    {
        get
        {
            lock (_gate)
            {
                return _listeners.Count;
            }
        }
    }

    /// <summary>How many entries the ring holds at most.</summary>
    public int Capacity => _ring.Length;

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<AppendedEvent>> AppendAsync(IReadOnlyList<EventDraft> events, CancellationToken cancellationToken = default)
    {
        var results = new AppendedEvent[events.Count];
        List<IAppendListener>? toNotify = null;
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            ForgetExpiredIds(now);
            var head = _head;
            for (var i = 0; i < events.Count; i++)
            {
                var draft = events[i];
                if (draft.Id is not null && _dedup.TryGetValue((draft.Topic, draft.Id), out var first))
                {
                    results[i] = new AppendedEvent(first, draft.Topic, draft.Id, Duplicate: true);
                    continue;
                }

                var sequence = ++head;
                var entry = new LogEntry(sequence, draft.Topic, draft.Type, draft.Id, draft.Key, draft.Time, Compose(sequence, draft.Body));
                _ring[sequence % _ring.Length] = entry;
                if (draft.Id is not null)
                {
                    _dedup[(draft.Topic, draft.Id)] = sequence;
                    _dedupOrder.Enqueue((now, draft.Topic, draft.Id));
                }

                if (!_topics.TryGetValue(draft.Topic, out var counter))
                {
                    _topics[draft.Topic] = counter = new TopicCounter();
                }

                counter.Count++;
                counter.LastSequence = sequence;
                results[i] = new AppendedEvent(sequence, draft.Topic, draft.Id, Duplicate: false);
            }

            // Publish the head only after every slot of the batch is written: readers see all of it or none.
            Volatile.Write(ref _head, head);
            if (_listeners.Count > 0)
            {
                toNotify = _listeners;
                _listeners = new List<IAppendListener>();
            }

            AssertInvariants();
        }

        // Wake readers outside the lock: one list per append that has listeners, handed over whole.
        if (toNotify is not null)
        {
            foreach (var listener in toNotify)
            {
                listener.OnAppended();
            }
        }

        return new ValueTask<IReadOnlyList<AppendedEvent>>(results);
    }

    /// <inheritdoc />
    public ValueTask<LogRead> ReadAsync(long after, IEventFilter? filter, int maxEvents, int maxBytes, List<LogEntry> into, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(after);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEvents, 1);
        var head = Head;
        var first = Math.Max(1, head - _ring.Length + 1);
        if (after + 1 < first)
        {
            return new ValueTask<LogRead>(new LogRead(after, Truncated: true, first));
        }

        var bytes = 0;
        var taken = 0;
        var position = after;
        while (position < head && taken < maxEvents && (taken == 0 || bytes < maxBytes))
        {
            var entry = Volatile.Read(ref _ring[(position + 1) % _ring.Length]);
            if (entry is null || entry.Sequence != position + 1)
            {
                // The writer wrapped around past us while we read: what we hold is still good, the rest is gone.
                if (taken > 0)
                {
                    break;
                }

                return new ValueTask<LogRead>(new LogRead(after, Truncated: true, FirstRetained));
            }

            position++;
            if (filter is null || filter.Matches(entry))
            {
                into.Add(entry);
                taken++;
                bytes += entry.Json.Length;
            }
        }

        return new ValueTask<LogRead>(new LogRead(position, Truncated: false, first));
    }

    /// <inheritdoc />
    public void ListenOnce(IAppendListener listener)
    {
        lock (_gate)
        {
            _listeners.Add(listener);
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<TopicStats> GetTopics()
    {
        lock (_gate)
        {
            var list = new List<TopicStats>(_topics.Count);
            foreach (var (topic, counter) in _topics)
            {
                list.Add(new TopicStats(topic, counter.Count, counter.LastSequence));
            }

            list.Sort(static (a, b) => string.CompareOrdinal(a.Topic, b.Topic));
            return list;
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> IsReadyAsync(CancellationToken cancellationToken = default) => new(true);

    /// <summary>Writes <c>{"sequence":N,</c> followed by the draft's members: the one copy an event's JSON takes.</summary>
    private static byte[] Compose(long sequence, byte[] body)
    {
        ReadOnlySpan<byte> prefix = "{\"sequence\":"u8;
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(sequence, digits, out var digitCount);
        var empty = body.Length == 2; // "{}"
        var json = new byte[prefix.Length + digitCount + (empty ? 0 : 1) + body.Length - 1];
        var span = json.AsSpan();
        prefix.CopyTo(span);
        span = span[prefix.Length..];
        digits[..digitCount].CopyTo(span);
        span = span[digitCount..];
        if (!empty)
        {
            span[0] = (byte)',';
            span = span[1..];
        }

        body.AsSpan(1).CopyTo(span);
        return json;
    }

    private void ForgetExpiredIds(DateTimeOffset now)
    {
        while (_dedupOrder.TryPeek(out var oldest) && now - oldest.At > _dedupWindow)
        {
            _dedupOrder.Dequeue();
            _dedup.Remove((oldest.Topic, oldest.Id));
        }
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_head >= 0, "the head is never negative");
        Debug.Assert(_dedup.Count == _dedupOrder.Count, "every remembered id is queued for expiry exactly once");
        Debug.Assert(_head == 0 || _ring[_head % _ring.Length]?.Sequence == _head, "the head's slot holds the head");
    }

    private sealed class TopicCounter
    {
        public long Count;
        public long LastSequence;
    }
}
