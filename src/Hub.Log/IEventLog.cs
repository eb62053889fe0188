namespace Hub.Log;

/// <summary>
/// The hub's log: an append-only sequence of events with a global, strictly increasing sequence, bounded by a
/// retention, with dedup by <c>(topic, id)</c> and a notification of new heads. Every subscriber reads it through its
/// own cursor, so a slow subscriber's backlog is the log itself, not a copy.
/// </summary>
/// <remarks>
/// Implementations: <see cref="MemoryEventLog"/> (in memory, bounded by count). Storage engines (SQLite,
/// PostgreSQL) implement the same contract; nothing here is specific to one engine.
/// </remarks>
public interface IEventLog
{
    /// <summary>The sequence of the last appended event; 0 before the first.</summary>
    long Head { get; }

    /// <summary>The oldest sequence still retained (<see cref="Head"/> + 1 when nothing is retained).</summary>
    long FirstRetained { get; }

    /// <summary>
    /// The log's epoch: an opaque string fixed when the log is created. A new, empty or restored log has a new one; the
    /// same log opened again keeps it. Sequences are only comparable within one epoch (see <see cref="LogEpoch"/>).
    /// </summary>
    string Epoch { get; }

    /// <summary>
    /// Appends a batch atomically, all or nothing, and answers each event's sequence in order, once the batch is as
    /// durable as the log is. An event whose <c>(topic, id)</c> was appended within the dedup window is not appended
    /// again: it answers the first sequence. A batch with an <paramref name="idempotencyKey"/> seen within the window
    /// (from the same subject: the key is scoped to it) appends nothing and answers what the first batch with that key was
    /// answered.
    /// </summary>
    /// <exception cref="LogOverloadedException">The log cannot take more now; nothing was appended.</exception>
    /// <exception cref="LogUnavailableException">The log cannot write now (see <see cref="CheckHealthAsync"/>); nothing was
    /// appended. Never a hang: an append the log cannot write fails at once or with its group commit.</exception>
    ValueTask<IReadOnlyList<AppendedEvent>> AppendAsync(IReadOnlyList<EventDraft> events, IdempotencyKey? idempotencyKey = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads the entries after <paramref name="after"/> that <paramref name="filter"/> selects, in sequence order, into
    /// <paramref name="into"/>: at most <paramref name="maxEvents"/>, and stopping once their JSON reaches
    /// <paramref name="maxBytes"/> (at least one is read when one matches). One read examines at most
    /// <c>Hub:Log:MaxScanEvents</c> entries, matching or not: it may answer fewer events than asked, or none, with
    /// <see cref="LogRead.ScannedTo"/> moved forward, and the reader goes on from there.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled: the read stops
    /// where it is (checked at every entry examined), and what it added to <paramref name="into"/> is to be ignored.</exception>
    ValueTask<LogRead> ReadAsync(long after, IEventFilter? filter, int maxEvents, int maxBytes, List<LogEntry> into, CancellationToken cancellationToken = default);

    /// <summary>
    /// Answers this node's head once it has reached <paramref name="sequence"/>, if the store holds that sequence. On
    /// several nodes, a position a client learnt elsewhere (the last sequence another node delivered before it was lost, or
    /// the answer to a publish on another node) may be ahead of what this node's feed has brought yet: it is a position in
    /// this log, not in a reset one, and this node catches up to it from the store. The answer is below
    /// <paramref name="sequence"/> only when the store does not hold it either (the position is from another log).
    /// </summary>
    /// <exception cref="LogUnavailableException">The store cannot be read now.</exception>
    ValueTask<long> ReachAsync(long sequence, CancellationToken cancellationToken = default);

    /// <summary>
    /// Registers <paramref name="listener"/> to be told of the next append. Callers register, then check
    /// <see cref="Head"/> again before waiting, so that no append is missed.
    /// </summary>
    void ListenOnce(IAppendListener listener);

    /// <summary>
    /// A group's stored position, or <see langword="null"/> for a group never seen, or gone (without members) for longer
    /// than the retention's <c>MaxAge</c>. Answered from memory.
    /// </summary>
    GroupPosition? GetGroupPosition(GroupKey group);

    /// <summary>
    /// Stores a group's position: at once for <see cref="GetGroupPosition"/>, and durably soon after (with the next write
    /// of the log's store). A position lost to a crash only makes the group read some acknowledged events again.
    /// <paramref name="live"/> is false when the group's last member has left: its position is removed once it has been
    /// gone longer than the retention's <c>MaxAge</c> (a live group's never is). Returns false, storing nothing, for a
    /// group without a stored position while <c>Hub:Log:MaxGroupPositions</c> are kept.
    /// </summary>
    bool SaveGroupPosition(GroupKey group, GroupPosition position, bool live = true);

    /// <summary>Who reads which partitions of a group, decided by the store so that a group spans nodes (see
    /// <see cref="IGroupLeases"/>).</summary>
    IGroupLeases GroupLeases => LocalGroupLeases.Instance;

    /// <summary>The topics seen, with their counts and last sequences.</summary>
    IReadOnlyList<TopicStats> GetTopics();

    /// <summary>Whether the log can be written now (readiness), and whether it can be again without a restart (liveness).</summary>
    ValueTask<LogHealth> CheckHealthAsync(CancellationToken cancellationToken = default);
}
