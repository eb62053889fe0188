namespace Hub.Server.Log;

/// <summary>
/// What a log remembers for idempotent publish within its dedup window: the first sequence of each <c>(topic, id)</c>,
/// and the answer to each <c>Idempotency-Key</c>. Not thread-safe: its log serialises appends.
/// </summary>
internal sealed class Deduplicator(TimeSpan window)
{
    private readonly Dictionary<(string Topic, string Id), long> _ids = [];
    private readonly Queue<(DateTimeOffset At, string Topic, string Id)> _idOrder = new();
    private readonly Dictionary<string, AppendedEvent[]> _keys = new(StringComparer.Ordinal);
    private readonly Queue<(DateTimeOffset At, string Key)> _keyOrder = new();

    public TimeSpan Window => window;

    public int Count => _ids.Count + _keys.Count;

    public bool TryGetSequence(string topic, string id, out long sequence) => _ids.TryGetValue((topic, id), out sequence);

    public void RememberId(string topic, string id, long sequence, DateTimeOffset at)
    {
        if (_ids.TryAdd((topic, id), sequence))
        {
            _idOrder.Enqueue((at, topic, id));
        }
    }

    public bool TryGetAnswer(string key, out AppendedEvent[] answer) => _keys.TryGetValue(key, out answer!);

    public void RememberAnswer(string key, AppendedEvent[] answer, DateTimeOffset at)
    {
        if (_keys.TryAdd(key, answer))
        {
            _keyOrder.Enqueue((at, key));
        }
    }

    /// <summary>Forgets what is older than the window.</summary>
    public void Expire(DateTimeOffset now)
    {
        while (_idOrder.TryPeek(out var oldest) && now - oldest.At > window)
        {
            _idOrder.Dequeue();
            _ids.Remove((oldest.Topic, oldest.Id));
        }

        while (_keyOrder.TryPeek(out var oldest) && now - oldest.At > window)
        {
            _keyOrder.Dequeue();
            _keys.Remove(oldest.Key);
        }
    }

    /// <summary>Undoes what a failed append remembered.</summary>
    public void Forget(IEnumerable<(string Topic, string Id)> ids, string? key)
    {
        // The expiry queues keep their entries; expiring an absent key is harmless.
        foreach (var id in ids)
        {
            _ids.Remove(id);
        }

        if (key is not null)
        {
            _keys.Remove(key);
        }
    }
}
