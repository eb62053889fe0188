using Hub.Log;
using Hub.Log.Postgres;
using Hub.Server.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Hub.Server.Tests.Log;

/// <summary>
/// The store's decisions for a group that spans nodes (<c>hub_group_lease</c>), one round at a time on a clock the test
/// moves: fair shares among holders, a holder's partitions taken only once released or expired, with the previous
/// holder's handed mark for the redelivery marks, positions carried over from the group's stored position.
/// </summary>
public sealed class PostgresGroupLeasesTests : IAsyncLifetime
{
    private static readonly GroupKey Group = new("workers", new string('a', 32));
    private readonly ManualTimeProvider _clock = new();
    private PostgresDatabase _database = null!;
    private PostgresEventLog _store = null!;

    public async Task InitializeAsync()
    {
        _database = await PostgresDatabase.CreateAsync();
        var options = new EventLogOptions { Kind = EventLogOptions.KindPostgres };
        options.Postgres.ConnectionString = _database.ConnectionString;
        _store = new PostgresEventLog(Options.Create(options), _clock);
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        await _database.DisposeAsync();
    }

    private IGroupLeases Leases => ((IEventStore)_store).GroupLeases;

    private Task<GroupLeaseGrant> RoundAsync(string holder, IEnumerable<PartitionPosition>? held = null, IEnumerable<PartitionPosition>? released = null, long reserve = 0, bool leaving = false) =>
        Leases.RenewAsync(new GroupLeaseRenewal(Group, holder, new GroupPosition(100, 120), [.. held ?? []], [.. released ?? []], reserve, leaving), CancellationToken.None).AsTask();

    private static IEnumerable<PartitionPosition> Keep(GroupLeaseGrant grant, long acknowledged) =>
        grant.Held.Select(p => new PartitionPosition(p.Partition, acknowledged, 0));

    [Fact]
    public async Task FirstHolder_TakesEveryPartition_FromTheGroupsStoredPosition()
    {
        var grant = await RoundAsync("h1", reserve: 5_000);

        Assert.Equal(IGroupLeases.Partitions, grant.Share);
        Assert.Equal(Enumerable.Range(0, IGroupLeases.Partitions), grant.Held.Select(p => p.Partition).Order());
        Assert.All(grant.Held, p => Assert.Equal((100, 120), (p.Acknowledged, p.Handed))); // the mark before its own reservation
        Assert.True(Leases.ExpiresWithHolder);
    }

    [Fact]
    public async Task SecondHolder_GetsItsShare_OnlyAsTheFirstReleases()
    {
        var first = await RoundAsync("h1", reserve: 5_000);
        var second = await RoundAsync("h2", reserve: 6_000);
        Assert.Empty(second.Held); // nothing free: the first holds all until it gives them up
        Assert.Equal(IGroupLeases.Partitions / 2, second.Share);

        first = await RoundAsync("h1", Keep(first, 150), reserve: 5_000);
        Assert.Equal(IGroupLeases.Partitions / 2, first.Share); // the first now knows it holds too many
        var release = first.Held.Select(p => p.Partition).Order().Skip(first.Share).Select(p => new PartitionPosition(p, 160, 170)).ToList();
        var kept = first.Held.Where(p => !release.Any(r => r.Partition == p.Partition)).Select(p => new PartitionPosition(p.Partition, 150, 0));
        first = await RoundAsync("h1", kept, release, reserve: 5_000);
        Assert.Equal(IGroupLeases.Partitions / 2, first.Held.Count);

        second = await RoundAsync("h2", reserve: 6_000);
        Assert.Equal(release.Select(r => r.Partition), second.Held.Select(p => p.Partition).Order());
        Assert.All(second.Held, p => Assert.Equal((160, 170), (p.Acknowledged, p.Handed))); // the released exact marks
        Assert.Empty(first.Held.Select(p => p.Partition).Intersect(second.Held.Select(p => p.Partition)));
    }

    [Fact]
    public async Task HolderThatStopsRenewing_LosesItsPartitions_WithItsReservationAsTheHandedMark()
    {
        var dead = await RoundAsync("dead", reserve: 9_000);
        dead = await RoundAsync("dead", Keep(dead, 300), reserve: 9_000);
        var survivor = await RoundAsync("survivor", reserve: 4_000);
        Assert.Empty(survivor.Held);

        _clock.Advance(Leases.LeaseTime / 2);
        survivor = await RoundAsync("survivor", reserve: 4_000);
        Assert.Empty(survivor.Held); // not expired yet

        _clock.Advance(Leases.LeaseTime);
        survivor = await RoundAsync("survivor", reserve: 4_000);
        Assert.Equal(IGroupLeases.Partitions, survivor.Share); // the dead holder is forgotten
        Assert.Equal(Enumerable.Range(0, IGroupLeases.Partitions), survivor.Held.Select(p => p.Partition).Order());
        Assert.All(survivor.Held, p => Assert.Equal((300, 9_000), (p.Acknowledged, p.Handed)));

        var late = await RoundAsync("dead", Keep(dead, 400), reserve: 9_500);
        Assert.Empty(late.Held); // its renewal comes too late: the partitions are the survivor's
    }

    [Fact]
    public async Task LeavingHolder_ReleasesEverything_AndIsNoLongerCounted()
    {
        var leaving = await RoundAsync("leaving", reserve: 1_000);
        var staying = await RoundAsync("staying", reserve: 1_000);
        Assert.Empty(staying.Held);

        await RoundAsync("leaving", released: leaving.Held.Select(p => new PartitionPosition(p.Partition, 200 + p.Partition, 210 + p.Partition)), leaving: true);
        staying = await RoundAsync("staying", reserve: 1_000);

        Assert.Equal(IGroupLeases.Partitions, staying.Share);
        Assert.All(staying.Held, p => Assert.Equal((200L + p.Partition, 210L + p.Partition), (p.Acknowledged, p.Handed)));
    }

    [Fact]
    public async Task LocalLeases_GrantEveryPartition_FromTheStoredPosition_AndNeverExpire()
    {
        var local = LocalGroupLeases.Instance;
        var grant = await local.RenewAsync(new GroupLeaseRenewal(Group, "one", new GroupPosition(7, 9), [], [], 0, false), CancellationToken.None);

        Assert.False(local.ExpiresWithHolder);
        Assert.Equal(Enumerable.Range(0, IGroupLeases.Partitions), grant.Held.Select(p => p.Partition));
        Assert.All(grant.Held, p => Assert.Equal((7, 9), (p.Acknowledged, p.Handed)));
    }
}
