namespace Hub.Log;

/// <summary>
/// The store's feed of new heads, implemented by the node (<see cref="LogTail"/>): how a node learns of every commit,
/// its own or another instance's, so that its memory of the log is the store's, in the store's order.
/// </summary>
/// <remarks>
/// Calls are never made under a lock of the store, and each must return quickly (the node does no I/O in them: a read
/// the node needs is made on its own task). A head may be told late, twice, or out of order with others; the node
/// ingests in sequence order from where it stands and ignores what it already has, so nothing is ever reordered or
/// skipped.
/// </remarks>
public interface IStoreFeed
{
    /// <summary>
    /// This instance committed <paramref name="entries"/>: contiguous sequences, in order, the last one the store's head
    /// at that commit (never empty). Called before the appenders of that commit are answered.
    /// </summary>
    void Committed(IReadOnlyList<LogEntry> entries);

    /// <summary>
    /// The store's head is at least <paramref name="head"/> (another instance committed, or this one's commit seen again):
    /// the node reads what it lacks from the store.
    /// </summary>
    void HeadMoved(long head);
}
