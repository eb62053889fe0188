namespace Hub.Log;

/// <summary>The answer to a round of <see cref="IGroupLeases.RenewAsync"/>.</summary>
/// <param name="Held">Every partition the holder holds now, with its stored position (which matters for those it did not
/// hold before: it starts them there). A partition it held and that is not here was lost (its lease expired and another
/// holder took it).</param>
/// <param name="Share">How many partitions are the holder's fair share now; it releases what it holds beyond, once their
/// events in flight are acknowledged.</param>
public sealed record GroupLeaseGrant(IReadOnlyList<PartitionPosition> Held, int Share);
