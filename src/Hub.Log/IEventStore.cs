namespace Hub.Log;

/// <summary>
/// What a storage engine decides, and nothing a node merely remembers: the durable half of the log, shared by every
/// node that opens the same store. <see cref="LogTail"/> is the other half (the node's memory of the log, built from
/// <see cref="IStoreFeed"/>), and together they are the <see cref="IEventLog"/> the rest of the hub reads.
/// </summary>
/// <remarks>
/// <para><b>Why the split.</b> Several processes may open one store (two hubs on one SQLite file, any number of nodes
/// on one PostgreSQL database). Whatever must be the same for all of them is decided here, inside the store's own
/// append transaction, so that they agree without talking to each other: the sequence of each event, whether an
/// <c>(topic, id)</c> is a duplicate, and the answer to an <c>Idempotency-Key</c>. An engine may keep a memory cache of
/// dedup ids and answers, but only as a shortcut for what its own instance wrote: before it answers "new", it must know
/// that no other instance stored the same id or key (by reading the store inside the transaction that writes).
/// Everything else a node keeps (the recent events, who waits for the next one, topic counters, the envelope bytes) is
/// a cache of the store, rebuilt from <see cref="IStoreFeed"/> whichever instance appended.</para>
/// <para><b>Sequences</b> are 1, 2, 3, … with no holes: every sequence up to the store's head is an event, or was
/// removed by retention. Sequences are never reused, even after retention removed everything.</para>
/// <para><b>Readers never skip.</b> <see cref="ReadAsync"/> answers only events below a horizon under which nothing can
/// still commit (trivially true when appends are serialised by the store's write lock, as in SQLite; for a store where
/// concurrent transactions may commit out of order, the engine documents how it holds the horizon back).</para>
/// <para><b>The feed</b> (<see cref="Attach"/>): the store tells its one node of every head it learns of, its own
/// commits with their entries (so the node need not read back what it has just written), and other instances' commits
/// as a bare head (the node reads the entries). A hint may come late or twice; it must never be lost for good: an
/// engine that learns of other instances' commits by notification (LISTEN/NOTIFY) backs it with a bounded poll.</para>
/// <para>Implementations: <c>MemoryEventLog</c> (one instance, in memory), <c>SqliteEventLog</c> (one file, possibly
/// opened by several processes), <c>PostgresEventLog</c> (several nodes).</para>
/// </remarks>
public interface IEventStore : IAsyncDisposable
{
    /// <summary>The store's epoch (see <see cref="IEventLog.Epoch"/>): fixed when the store is created, the same for every
    /// instance that opens it.</summary>
    string Epoch { get; }

    /// <summary>The oldest sequence the store still retains (its head + 1 when it retains nothing). Never moves back.</summary>
    long FirstRetained { get; }

    /// <summary>
    /// Connects the store to its node, once, before the first append: answers the store's head and topic counters as
    /// one consistent snapshot, and from then on tells <paramref name="feed"/> of every head past it (see
    /// <see cref="IStoreFeed"/>). Appends made before it are refused.
    /// </summary>
    StoreSnapshot Attach(IStoreFeed feed);

    /// <summary>
    /// Appends a batch atomically, all or nothing, deciding in the store's transaction each event's sequence, which events
    /// are duplicates of a <c>(topic, id)</c> stored within the dedup window (they answer the first sequence and are not
    /// stored), and whether <paramref name="idempotencyKey"/> (scoped to its subject) was answered within the window (then
    /// nothing is appended and the first answer is given again). Completes once the batch is as durable as the store is,
    /// and after <see cref="IStoreFeed.Committed"/> was called for it.
    /// </summary>
    /// <exception cref="LogOverloadedException">The store cannot take more now; nothing was appended.</exception>
    /// <exception cref="LogUnavailableException">The store cannot write now; nothing was appended. Never a hang.</exception>
    ValueTask<IReadOnlyList<AppendedEvent>> AppendAsync(IReadOnlyList<EventDraft> events, IdempotencyKey? idempotencyKey, CancellationToken cancellationToken);

    /// <summary>
    /// Reads, from the store (not from any node's memory), the entries after <paramref name="after"/> and up to
    /// <paramref name="upTo"/> that <paramref name="filter"/> selects, in sequence order, as
    /// <see cref="IEventLog.ReadAsync"/> describes (at most <paramref name="maxEvents"/>, <paramref name="maxBytes"/> of
    /// JSON once one is read, <c>Hub:Log:MaxScanEvents</c> examined, cancellation checked at every entry). Only committed
    /// events below the readers' horizon are answered: a read never passes over a sequence that may still appear.
    /// </summary>
    ValueTask<LogRead> ReadAsync(long after, long upTo, IEventFilter? filter, int maxEvents, int maxBytes, List<LogEntry> into, CancellationToken cancellationToken);

    /// <summary>A group's stored position (see <see cref="IEventLog.GetGroupPosition"/>).</summary>
    GroupPosition? GetGroupPosition(GroupKey group);

    /// <summary>Stores a group's position (see <see cref="IEventLog.SaveGroupPosition"/>).</summary>
    bool SaveGroupPosition(GroupKey group, GroupPosition position, bool live);

    /// <summary>Who reads which partitions of a group (see <see cref="IGroupLeases"/>): by default, a store one process
    /// owns, whose one instance of a group holds them all (<see cref="LocalGroupLeases"/>).</summary>
    IGroupLeases GroupLeases => LocalGroupLeases.Instance;

    /// <summary>Whether the store can be written now, and whether it can be again without a restart.</summary>
    ValueTask<LogHealth> CheckHealthAsync(CancellationToken cancellationToken);
}
