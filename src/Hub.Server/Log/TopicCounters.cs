namespace Hub.Server.Log;

/// <summary>Per-topic counts and last sequences. Not thread-safe for writes; <see cref="Snapshot"/> locks.</summary>
internal sealed class TopicCounters
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (long Count, long Last)> _topics = new(StringComparer.Ordinal);

    public void Add(string topic, long sequence, long count = 1)
    {
        lock (_gate)
        {
            _topics[topic] = _topics.TryGetValue(topic, out var known) ? (known.Count + count, sequence) : (count, sequence);
        }
    }

    public long MaxLastSequence()
    {
        lock (_gate)
        {
            return _topics.Count == 0 ? 0 : _topics.Values.Max(t => t.Last);
        }
    }

    public IReadOnlyList<TopicStats> Snapshot()
    {
        lock (_gate)
        {
            var list = _topics.Select(t => new TopicStats(t.Key, t.Value.Count, t.Value.Last)).ToList();
            list.Sort(static (a, b) => string.CompareOrdinal(a.Topic, b.Topic));
            return list;
        }
    }
}
