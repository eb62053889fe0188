using System.Diagnostics;
using Hub.Stages.Subscriptions;

namespace Hub.Stages.Dispatchers;

/// <summary>
/// Sends every subscriber every event it selects, at its own pace: Hub's broadcast. A slow or stalled subscriber
/// never holds back the others.
/// </summary>
/// <remarks>
/// <para>
/// <b>How it differs from <see cref="BroadcastDispatcher{T}"/> (GenStage's broadcast).</b> GenStage forwards
/// upstream the <em>minimum</em> demand across subscribers, so the slowest subscriber sets everyone's pace and one
/// that stops asking stops them all. Hub serves many independent connections; one stalled socket must not stall the
/// rest. So this dispatcher keeps one shared, append-only, bounded log of the last <see cref="Retention"/> events and
/// gives each subscriber a <em>cursor</em> (the sequence of the next event it reads) and <em>credits</em> (its
/// outstanding demand). A subscriber with credits receives from its cursor, up to its credits. Upstream demand is
/// driven by the <em>fastest</em> subscriber: the dispatcher forwards the increase in <c>max(cursor + credits)</c>
/// beyond what it already requested. A lagging subscriber costs one cursor, not a queue of copies.
/// </para>
/// <para>
/// When the log moves past a subscriber's cursor (it lagged by more than <see cref="Retention"/>), its
/// <see cref="OverflowPolicy"/> applies: <see cref="OverflowPolicy.DropOldest"/> skips it to the oldest retained event
/// and reports the gap through <see cref="IDispatchSink{T}.Gap"/>; <see cref="OverflowPolicy.Disconnect"/> removes it
/// and reports it through <see cref="IDispatchSink{T}.Disconnect"/>. Each subscriber's place is a
/// <see cref="BroadcastCursor"/>, the same state machine the hub's subscription stage runs over the hub's log: this
/// dispatcher composes it over its own chunk log.
/// </para>
/// <para>
/// <b>Memory.</b> The log is a list of immutable chunks: each event is copied once, into the log, and a delivery is a
/// <see cref="ReadOnlyMemory{T}"/> slice of a chunk shared by every subscriber, so fan-out allocates nothing per event
/// per subscriber. Chunks older than the retention are released to the garbage collector (a subscriber still holding
/// a slice keeps its chunk alive). A subscriber with a selector receives a fresh array per batch holding only the
/// events it selected; the events it skips are credited back at once.
/// </para>
/// <para>
/// Sequences start at 0 when the dispatcher is created; a new subscriber starts at the head (live events only).
/// With no subscriber, <see cref="Dispatch"/> places nothing and the producer buffers the events.
/// </para>
/// </remarks>
/// <typeparam name="T">The event type.</typeparam>
public sealed class CursorBroadcastDispatcher<T> : IDispatcher<T>
{
    /// <summary>The default retention: 10,000 events.</summary>
    public const int DefaultRetention = 10_000;

    private const int MaxChunkSize = 1024;

    private readonly int _chunkSize;
    private readonly List<T[]> _chunks = [];
    private readonly List<Cursor> _cursors = [];
    private readonly Dictionary<long, Cursor> _byId = [];
    private readonly List<T> _selected = [];
    private long _firstChunkStart; // the sequence of _chunks[0][0]
    private long _head;            // the sequence the next event gets
    private long _tail;            // the oldest retained sequence
    private long _requested;       // the sequence up to which upstream has been asked

    /// <summary>Creates a dispatcher.</summary>
    /// <param name="retention">How many of the latest events the log keeps for lagging subscribers (at least 1).</param>
    /// <param name="overflow">The policy of subscribers that do not choose one.</param>
    public CursorBroadcastDispatcher(int retention = DefaultRetention, OverflowPolicy overflow = OverflowPolicy.DropOldest)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retention, 1);
        Retention = retention;
        DefaultOverflow = overflow;
        _chunkSize = Math.Min(retention, MaxChunkSize);
    }

    /// <summary>How many of the latest events the log keeps.</summary>
    public int Retention { get; }

    /// <summary>The policy of subscribers that do not choose one.</summary>
    public OverflowPolicy DefaultOverflow { get; }

    /// <summary>The sequence the next event will get (the number of events dispatched so far).</summary>
    public long Head => _head;

    /// <summary>The oldest retained sequence.</summary>
    public long Tail => _tail;

    /// <summary>The number of subscribers.</summary>
    public int SubscriberCount => _cursors.Count;

    /// <summary>Reads a subscriber's cursor and credits.</summary>
    public bool TryGetCursor(long subscriberId, out long position, out long credits)
    {
        if (_byId.TryGetValue(subscriberId, out Cursor? cursor))
        {
            position = cursor.State.Position;
            credits = cursor.State.Credits;
            return true;
        }

        position = credits = 0;
        return false;
    }

    /// <inheritdoc/>
    public long Subscribe(long subscriberId, SubscriptionOptions<T> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var cursor = new Cursor(subscriberId, options.Selector, new BroadcastCursor(_head, 0, options.Overflow ?? DefaultOverflow));
        if (!_byId.TryAdd(subscriberId, cursor))
        {
            throw new ArgumentException($"Subscriber {subscriberId} is already subscribed.", nameof(subscriberId));
        }

        _cursors.Add(cursor);
        AssertInvariants();
        return 0;
    }

    /// <inheritdoc/>
    public long Ask(long subscriberId, long count, IDispatchSink<T> sink)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentNullException.ThrowIfNull(sink);
        if (!_byId.TryGetValue(subscriberId, out Cursor? cursor))
        {
            return 0;
        }

        cursor.State.Grant(count);
        Deliver(cursor, sink);
        long demand = ForwardUpTo(cursor.State.Position + cursor.State.Credits);
        AssertInvariants();
        return demand;
    }

    /// <inheritdoc/>
    public long Cancel(long subscriberId)
    {
        if (_byId.Remove(subscriberId, out Cursor? cursor))
        {
            _cursors.Remove(cursor);
        }

        AssertInvariants();
        return 0;
    }

    /// <inheritdoc/>
    public ReadOnlyMemory<T> Dispatch(ReadOnlyMemory<T> events, IDispatchSink<T> sink, out long demand)
    {
        ArgumentNullException.ThrowIfNull(sink);
        demand = 0;
        if (_cursors.Count == 0 || events.IsEmpty)
        {
            return events;
        }

        Append(events.Span);
        _requested = Math.Max(_requested, _head);

        // Deliver before trimming, so a subscriber with credits gets a batch even when it is longer than the retention.
        foreach (Cursor cursor in _cursors)
        {
            if (cursor.State.Credits > 0)
            {
                Deliver(cursor, sink);
            }
        }

        Trim();
        long fastest = 0;
        List<Cursor>? disconnected = null;
        foreach (Cursor cursor in _cursors)
        {
            // Sequences here count from 0; the cursor's count from 1, so the oldest retained one is _tail + 1 to it.
            if (cursor.State.IsBehind(_tail + 1))
            {
                CursorLapped lapped = cursor.State.FellBehind(_tail + 1);
                if (lapped.Ends)
                {
                    (disconnected ??= []).Add(cursor);
                    continue;
                }

                cursor.State.PassTo(lapped.To);
                sink.Gap(cursor.Id, lapped.From - 1, lapped.To);
            }

            fastest = Math.Max(fastest, cursor.State.Position + cursor.State.Credits);
        }

        if (disconnected is not null)
        {
            foreach (Cursor cursor in disconnected)
            {
                _cursors.Remove(cursor);
                _byId.Remove(cursor.Id);
                sink.Disconnect(cursor.Id, cursor.State.Position, _tail);
            }
        }

        demand = ForwardUpTo(fastest);
        AssertInvariants();
        return ReadOnlyMemory<T>.Empty;
    }

    private long ForwardUpTo(long target)
    {
        long demand = Math.Max(0, target - _requested);
        _requested += demand;
        return demand;
    }

    private void Append(ReadOnlySpan<T> events)
    {
        while (!events.IsEmpty)
        {
            long lastStart = _firstChunkStart + ((long)(_chunks.Count - 1) * _chunkSize);
            if (_chunks.Count == 0 || _head - lastStart == _chunkSize)
            {
                if (_chunks.Count == 0)
                {
                    _firstChunkStart = _head;
                }

                _chunks.Add(new T[_chunkSize]);
                lastStart = _head;
            }

            int offset = (int)(_head - lastStart);
            int count = Math.Min(events.Length, _chunkSize - offset);
            events[..count].CopyTo(_chunks[^1].AsSpan(offset));
            _head += count;
            events = events[count..];
        }
    }

    private void Trim()
    {
        _tail = Math.Max(_tail, _head - Retention);
        int drop = 0;
        while (drop < _chunks.Count - 1 && _firstChunkStart + _chunkSize <= _tail)
        {
            drop++;
            _firstChunkStart += _chunkSize;
        }

        if (drop > 0)
        {
            _chunks.RemoveRange(0, drop);
        }
    }

    private void Deliver(Cursor cursor, IDispatchSink<T> sink)
    {
        if (cursor.Selector is not null)
        {
            DeliverSelected(cursor, sink);
            return;
        }

        BroadcastCursor state = cursor.State;
        long end = Math.Min(_head, state.Position + state.Credits);
        while (state.Position < end)
        {
            long relative = state.Position - _firstChunkStart;
            int offset = (int)(relative % _chunkSize);
            int count = (int)Math.Min(_chunkSize - offset, end - state.Position);
            var slice = new ReadOnlyMemory<T>(_chunks[(int)(relative / _chunkSize)], offset, count);
            state.Take(count);
            state.PassTo(state.Position + count);
            sink.Deliver(cursor.Id, slice);
        }
    }

    private void DeliverSelected(Cursor cursor, IDispatchSink<T> sink)
    {
        Func<T, bool> selector = cursor.Selector!;
        BroadcastCursor state = cursor.State;
        while (!state.IsCaughtUp(_head) && state.Credits > 0)
        {
            long relative = state.Position - _firstChunkStart;
            int offset = (int)(relative % _chunkSize);
            int count = (int)Math.Min(_chunkSize - offset, _head - state.Position);
            ReadOnlySpan<T> span = _chunks[(int)(relative / _chunkSize)].AsSpan(offset, count);
            long credits = state.Credits;
            int read = 0;
            int selected = 0;
            while (read < span.Length && selected < credits)
            {
                T item = span[read++];
                if (selector(item))
                {
                    _selected.Add(item);
                    selected++;
                }
            }

            state.Take(selected);
            state.PassTo(state.Position + read);
        }

        if (_selected.Count > 0)
        {
            T[] batch = [.. _selected];
            _selected.Clear();
            sink.Deliver(cursor.Id, batch);
        }
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_tail <= _head && _head - _tail <= Retention, "the log holds at most Retention events");
        Debug.Assert(_chunks.Count == 0 || (_firstChunkStart <= _tail && _firstChunkStart + ((long)_chunks.Count * _chunkSize) >= _head), "the chunks cover [tail, head)");
        Debug.Assert(_cursors.Count == _byId.Count, "the cursor list and index agree");
        foreach (Cursor cursor in _cursors)
        {
            Debug.Assert(cursor.State.Position >= _tail && cursor.State.Position <= _head, "a cursor lies within the retained log");
            Debug.Assert(cursor.State.Credits == 0 || cursor.State.Position == _head, "no idle credit while events wait");
        }
    }

    /// <summary>A subscriber: its id and selector, and its place in the log.</summary>
    private sealed class Cursor(long id, Func<T, bool>? selector, BroadcastCursor state)
    {
        public long Id { get; } = id;

        public Func<T, bool>? Selector { get; } = selector;

        public BroadcastCursor State { get; } = state;
    }
}
