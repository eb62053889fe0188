namespace Hub.Log;

/// <summary>Where one partition of a group stands (see <see cref="IGroupLeases"/>).</summary>
/// <param name="Partition">0 to <see cref="IGroupLeases.Partitions"/> - 1.</param>
/// <param name="Acknowledged">Every event of the partition up to here was acknowledged.</param>
/// <param name="Handed">Events of the partition after <paramref name="Acknowledged"/> and up to here may have been handed
/// to a member: a holder that takes the partition marks them redelivered.</param>
public readonly record struct PartitionPosition(int Partition, long Acknowledged, long Handed);
