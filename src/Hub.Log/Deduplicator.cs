using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hub.Log;

/// <summary>
/// What a log remembers for idempotent publish within its dedup window: the first sequence of each <c>(topic, id)</c>,
/// and the answer to each <c>Idempotency-Key</c> (scoped to its subject). Not thread-safe: its log serialises appends.
/// </summary>
/// <remarks>
/// Both are keyed by client input, so both are bounded twice: by time (the window) and by size (<c>maxEntries</c>:
/// ids plus the events of the stored answers, since one answer holds up to a batch). Past the size, the oldest are
/// forgotten before their window ends, and <see cref="Expire"/> says how many, so that the log can say so.
/// </remarks>
internal sealed partial class Deduplicator(TimeSpan window, int maxEntries = EventLogOptions.DefaultMaxDedupEntries, ILogger? logger = null)
{
    /// <summary>How often, at most, forgetting early is logged (it can happen on every append under a flood).</summary>
    private static readonly TimeSpan WarningInterval = TimeSpan.FromMinutes(1);
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private DateTimeOffset _lastWarning = DateTimeOffset.MinValue;
    private long _forgottenSinceWarning;
    // Each entry keeps the time it was remembered at: an expiry queue entry removes it only if the times agree, so an
    // entry forgotten by a failed append and remembered again by its retry is not expired by the failed attempt's turn.
    private readonly Dictionary<(string Topic, string Id), (long Sequence, DateTimeOffset At)> _ids = [];
    private readonly Queue<(DateTimeOffset At, string Topic, string Id)> _idOrder = new();
    private readonly Dictionary<IdempotencyKey, (AppendedEvent[] Answer, DateTimeOffset At)> _keys = [];
    private readonly Queue<(DateTimeOffset At, IdempotencyKey Key)> _keyOrder = new();
    private long _answerEntries; // events in the stored answers

    public TimeSpan Window => window;

    /// <summary>The most ids and answer events remembered.</summary>
    public int MaxEntries => maxEntries;

    /// <summary>Ids remembered plus events in the answers remembered.</summary>
    public long Count => _ids.Count + _answerEntries;

    public bool TryGetSequence(string topic, string id, out long sequence)
    {
        var found = _ids.TryGetValue((topic, id), out var entry);
        sequence = entry.Sequence;
        return found;
    }

    public void RememberId(string topic, string id, long sequence, DateTimeOffset at)
    {
        if (_ids.TryAdd((topic, id), (sequence, at)))
        {
            _idOrder.Enqueue((at, topic, id));
        }
    }

    public bool TryGetAnswer(IdempotencyKey key, out AppendedEvent[] answer)
    {
        var found = _keys.TryGetValue(key, out var entry);
        answer = entry.Answer;
        return found;
    }

    public void RememberAnswer(IdempotencyKey key, AppendedEvent[] answer, DateTimeOffset at)
    {
        if (_keys.TryAdd(key, (answer, at)))
        {
            _keyOrder.Enqueue((at, key));
            _answerEntries += Math.Max(1, answer.Length);
        }
    }

    /// <summary>
    /// Forgets what is older than the window, then the oldest of what is left while more than <see cref="MaxEntries"/>
    /// are remembered. Returns how many were forgotten before their window ended (0 unless the bound was reached).
    /// </summary>
    public int Expire(DateTimeOffset now)
    {
        while (_idOrder.TryPeek(out var oldest) && now - oldest.At > window)
        {
            _idOrder.Dequeue();
            RemoveId(oldest.Topic, oldest.Id, oldest.At);
        }

        while (_keyOrder.TryPeek(out var oldest) && now - oldest.At > window)
        {
            _keyOrder.Dequeue();
            RemoveAnswer(oldest.Key, oldest.At);
        }

        var early = 0;
        while (Count > maxEntries)
        {
            // The older of the two queues' heads goes first: what is forgotten early is always the oldest remembered.
            var hasId = _idOrder.TryPeek(out var id);
            var hasKey = _keyOrder.TryPeek(out var key);
            if (hasId && (!hasKey || id.At <= key.At))
            {
                _idOrder.Dequeue();
                early += RemoveId(id.Topic, id.Id, id.At) ? 1 : 0;
            }
            else if (hasKey)
            {
                _keyOrder.Dequeue();
                early += RemoveAnswer(key.Key, key.At) ? 1 : 0;
            }
            else
            {
                break;
            }
        }

        if (early > 0)
        {
            _forgottenSinceWarning += early;
            if (now - _lastWarning >= WarningInterval)
            {
                Log.ForgottenEarly(_logger, _forgottenSinceWarning, maxEntries, window);
                _lastWarning = now;
                _forgottenSinceWarning = 0;
            }
        }

        return early;
    }

    /// <summary>Undoes what a failed append remembered.</summary>
    public void Forget(IEnumerable<(string Topic, string Id)> ids, IdempotencyKey? key)
    {
        // The expiry queues keep their entries: each removes only the entry remembered at its own time, so a stale one
        // neither removes a retry's entry nor counts as forgotten.
        foreach (var id in ids)
        {
            _ids.Remove(id);
        }

        if (key is { } k && _keys.Remove(k, out var entry))
        {
            _answerEntries -= Math.Max(1, entry.Answer.Length);
        }
    }

    private bool RemoveId(string topic, string id, DateTimeOffset at)
    {
        if (!_ids.TryGetValue((topic, id), out var entry) || entry.At != at)
        {
            return false;
        }

        _ids.Remove((topic, id));
        return true;
    }

    private bool RemoveAnswer(IdempotencyKey key, DateTimeOffset at)
    {
        if (!_keys.TryGetValue(key, out var entry) || entry.At != at)
        {
            return false;
        }

        _keys.Remove(key);
        _answerEntries -= Math.Max(1, entry.Answer.Length);
        return true;
    }
}
