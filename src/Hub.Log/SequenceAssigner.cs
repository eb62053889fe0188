namespace Hub.Log;

/// <summary>
/// What every log does to a batch before storing it: skip the <c>(topic, id)</c> pairs seen within the dedup window
/// (answering their first sequence), give the others the next sequences, and finish their envelope JSON.
/// </summary>
internal static class SequenceAssigner
{
    /// <param name="drafts">The batch, in order.</param>
    /// <param name="head">The last sequence given; advanced past the new entries.</param>
    /// <param name="dedup">Consulted, and told of each new id.</param>
    /// <param name="now">When, for the dedup window.</param>
    /// <param name="entries">Receives the new entries, in sequence order.</param>
    /// <param name="newIds">Receives the ids remembered, so a failed write can forget them; may be null.</param>
    /// <returns>One answer per draft.</returns>
    public static AppendedEvent[] Assign(IReadOnlyList<EventDraft> drafts, ref long head, Deduplicator dedup, DateTimeOffset now, List<LogEntry> entries, List<(string Topic, string Id)>? newIds)
    {
        var results = new AppendedEvent[drafts.Count];
        for (var i = 0; i < results.Length; i++)
        {
            var draft = drafts[i];
            if (draft.Id is not null && dedup.TryGetSequence(draft.Topic, draft.Id, out var first))
            {
                results[i] = new AppendedEvent(first, draft.Topic, draft.Id, Duplicate: true);
                continue;
            }

            var sequence = ++head;
            entries.Add(new LogEntry(sequence, draft.Topic, draft.Type, draft.Id, draft.Key, draft.Time, EnvelopeJson.Compose(sequence, draft.Body)));
            if (draft.Id is not null)
            {
                dedup.RememberId(draft.Topic, draft.Id, sequence, now);
                newIds?.Add((draft.Topic, draft.Id));
            }

            results[i] = new AppendedEvent(sequence, draft.Topic, draft.Id, Duplicate: false);
        }

        return results;
    }
}
