namespace Hub.Log;

/// <summary>One holder's round of <see cref="IGroupLeases.RenewAsync"/>.</summary>
/// <param name="Group">The group.</param>
/// <param name="Holder">Who holds: unique to one group's instance on one node (a group that closes and starts again on the
/// same node is another holder, so a late release of the old one never takes from the new one).</param>
/// <param name="Initial">Where a partition never leased before starts: the group's stored position (what one group kept
/// before its partitions were leased), so positions stored by an older hub carry over.</param>
/// <param name="Held">The partitions the holder holds and keeps, with their acknowledged positions (and, as their handed
/// mark, <paramref name="Reserve"/>).</param>
/// <param name="Released">The partitions it gives up, with their exact positions: nothing of theirs is in flight.</param>
/// <param name="Reserve">The mark up to which the holder may hand events until its next round (stored as the handed mark
/// of every partition it holds); unused by leases that do not expire.</param>
/// <param name="Leaving">The holder goes (its last member left): it releases everything (<paramref name="Released"/>) and takes nothing.</param>
public sealed record GroupLeaseRenewal(
    GroupKey Group,
    string Holder,
    GroupPosition Initial,
    IReadOnlyList<PartitionPosition> Held,
    IReadOnlyList<PartitionPosition> Released,
    long Reserve,
    bool Leaving);
