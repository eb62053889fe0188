namespace Hub.Log;

/// <summary>
/// Who reads which part of a group's stream: the store decides, so that members of one group on several nodes share its
/// events without the nodes talking to each other (<c>CONTRACT.md</c>: "groups span nodes").
/// </summary>
/// <remarks>
/// <para><b>The design.</b> A group's stream is split into <see cref="Partitions"/> partitions: by the hash of an event's key
/// in a <c>partition</c> group (the hash the group's dispatcher already uses, so a key stays in one partition), by its
/// sequence in a <c>demand</c> group. Each partition has its own acknowledged position and is <b>leased</b> to one holder
/// at a time (a group on one node: the instance of the group that has members there). Every holder renews its leases
/// each <see cref="RenewInterval"/> and takes a fair share of the partitions (the store counts the holders that renew);
/// one that holds more than its share releases the excess only once the events it handed from them are acknowledged
/// (a hand-over loses nothing and delivers nothing twice). A holder that dies stops renewing: once its leases expire
/// another holder takes them, from their acknowledged position, and redelivers, marked <c>redelivered</c>, what was
/// handed out and not acknowledged.</para>
/// <para><b>Why leases rather than claimed chunks.</b> Every node already has every event in its log tail (the feed), so
/// a node need not be told which events to deliver, only which partitions: one row per partition, written once a
/// renewal, whatever the event rate. A partition keeps its keys' order (one holder at a time), which claimed chunks of
/// the log would not.</para>
/// <para><b>Handed marks.</b> What a holder handed and did not acknowledge must be marked when it is redelivered, even if
/// the holder died between two renewals. So a holder hands out only events up to a mark it stored before (its
/// <see cref="GroupLeaseRenewal.Reserve"/>, some way ahead of what it has read), and the next holder marks everything
/// between the acknowledged position and that mark. A release stores the exact mark, so a hand-over marks only what
/// was really handed. An engine whose leases cannot outlive their holder (one process) reserves nothing
/// (<see cref="ExpiresWithHolder"/> false).</para>
/// <para>Implementations: <see cref="LocalGroupLeases"/> (memory and SQLite: one process holds every partition) and
/// <c>PostgresGroupLeases</c> (several nodes, in the database).</para>
/// </remarks>
public interface IGroupLeases
{
    /// <summary>How many partitions a group's stream is split into (the partition group's hash partitions).</summary>
    public const int Partitions = 64;

    /// <summary>
    /// False for leases that cannot outlive their holder (one process): every partition is granted at once, nothing is
    /// renewed and nothing reserved. True when a holder must renew every <see cref="RenewInterval"/> and may lose them.
    /// </summary>
    bool ExpiresWithHolder { get; }

    /// <summary>How often a holder renews its leases (less than <see cref="LeaseTime"/>, with room for a slow round).</summary>
    TimeSpan RenewInterval { get; }

    /// <summary>How long a lease lasts without renewal: the longest a dead holder's partitions wait for another holder.</summary>
    TimeSpan LeaseTime { get; }

    /// <summary>
    /// One round for one holder: stores the positions of the partitions it holds and releases, renews its leases, takes
    /// free or expired partitions up to its fair share, and answers what it holds now.
    /// </summary>
    /// <exception cref="LogUnavailableException">The store cannot be reached now; the holder keeps its leases until they
    /// expire (<see cref="LeaseTime"/> after the last round that succeeded) and tries again.</exception>
    ValueTask<GroupLeaseGrant> RenewAsync(GroupLeaseRenewal renewal, CancellationToken cancellationToken);
}
