namespace Hub.Log;

/// <summary>
/// Per-topic counts and last sequences, for <c>GET /api/topics</c>. Written by the log's one writer; read by anyone
/// through <see cref="Snapshot"/>, which copies under the lock and sorts outside it, so a reader never holds the writer
/// up for longer than a copy.
/// </summary>
/// <remarks>
/// Topics are client input, so the counters are bounded: past <c>maxTopics</c>, <see cref="EvictOverflow"/> drops the
/// counters of the tenth of topics published to least recently (never the one holding the head). A dropped topic that
/// is published to again is counted from then on.
/// </remarks>
internal sealed class TopicCounters(int maxTopics = EventLogOptions.DefaultMaxTopics)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (long Count, long Last)> _topics = new(StringComparer.Ordinal);

    /// <summary>How many topics are counted now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _topics.Count;
            }
        }
    }

    public void Add(string topic, long sequence, long count = 1)
    {
        lock (_gate)
        {
            _topics[topic] = _topics.TryGetValue(topic, out var known) ? (known.Count + count, sequence) : (count, sequence);
        }
    }

    /// <summary>
    /// When more than the bound are counted, drops the least recently published tenth (at least down to the bound) and
    /// returns their names (for a store to delete); otherwise returns nothing. Called by the writer after it adds.
    /// </summary>
    public IReadOnlyList<string> EvictOverflow()
    {
        lock (_gate)
        {
            if (_topics.Count <= maxTopics)
            {
                return [];
            }

            var drop = _topics.Count - maxTopics + Math.Max(1, maxTopics / 10);
            var oldest = _topics.OrderBy(static t => t.Value.Last).Take(drop).Select(static t => t.Key).ToArray();
            foreach (var topic in oldest)
            {
                _topics.Remove(topic);
            }

            return oldest;
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
        TopicStats[] list;
        lock (_gate)
        {
            list = new TopicStats[_topics.Count];
            var i = 0;
            foreach (var (topic, (count, last)) in _topics)
            {
                list[i++] = new TopicStats(topic, count, last);
            }
        }

        // Sorted outside the lock: the writer, which needs it to count each commit, waits for a copy at most.
        Array.Sort(list, static (a, b) => string.CompareOrdinal(a.Topic, b.Topic));
        return list;
    }
}
