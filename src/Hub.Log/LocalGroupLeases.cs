namespace Hub.Log;

/// <summary>
/// The leases of a store that one process owns (memory, SQLite): the process's one instance of a group holds every
/// partition, from the group's stored position, and cannot lose them; nothing is renewed or reserved. The group's
/// position is stored as before (<see cref="IEventLog.SaveGroupPosition"/>).
/// </summary>
public sealed class LocalGroupLeases : IGroupLeases
{
    /// <summary>The one instance: it keeps no state.</summary>
    public static readonly LocalGroupLeases Instance = new();

    private LocalGroupLeases()
    {
    }

    /// <inheritdoc />
    public bool ExpiresWithHolder => false;

    /// <inheritdoc />
    public TimeSpan RenewInterval => Timeout.InfiniteTimeSpan;

    /// <inheritdoc />
    public TimeSpan LeaseTime => Timeout.InfiniteTimeSpan;

    /// <inheritdoc />
    public ValueTask<GroupLeaseGrant> RenewAsync(GroupLeaseRenewal renewal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(renewal);
        if (renewal.Leaving)
        {
            return new ValueTask<GroupLeaseGrant>(new GroupLeaseGrant([], 0));
        }

        var all = new PartitionPosition[IGroupLeases.Partitions];
        for (var p = 0; p < all.Length; p++)
        {
            all[p] = new PartitionPosition(p, renewal.Initial.Acknowledged, renewal.Initial.Handed);
        }

        return new ValueTask<GroupLeaseGrant>(new GroupLeaseGrant(all, all.Length));
    }
}
