using Hub.Log;
using Hub.Server.Subscriptions;

namespace Hub.Server.Groups;

/// <summary>
/// The group's leased partitions (see <see cref="IGroupLeases"/>): which ones this instance holds, where each was read
/// to, and the loop that renews them, takes its share, hands over what it gives up and releases everything when the
/// last member leaves.
/// </summary>
/// <remarks>
/// <para>Each held partition has its own cursor; the pump reads from the lowest and queues an event only for the
/// partition it belongs to, when it is past that partition's cursor (a partition taken over late catches up from its
/// acknowledged position while the others go on). A partition's acknowledged position is one before its oldest event
/// queued or in flight, or its cursor.</para>
/// <para><b>Hand-over.</b> A partition beyond this instance's share is drained: its queued events are dropped (they were
/// never handed: its cursor goes back before them), nothing more of it is read, and it is released, with its exact
/// positions, once members have acknowledged what they hold of it. A member that leaves meanwhile gives its events of
/// it back to the partition (not to the other members), so they go with it.</para>
/// <para><b>Losing leases.</b> A lease not renewed within <see cref="IGroupLeases.LeaseTime"/> (the store unreachable) may
/// be taken by another node: from then on this instance hands out nothing, and once a round says the partition is
/// another's, it drops what it queued. Members' acknowledgements of what they still hold are then harmless: the new
/// holder redelivers from the stored position (at least once).</para>
/// </remarks>
internal sealed partial class Group
{
    /// <summary>How far beyond what it has read a holder reserves its handed mark (in sequences): how many events, at most,
    /// a node that dies may have marked redelivered without having handed them, and how often, under load, it renews
    /// early to raise the mark (each time what it read comes within half of it).</summary>
    internal const long ReserveAhead = 4_096;

    private readonly IGroupLeases _leases;
    private readonly Dictionary<int, HeldPartition> _held = []; // under _gate
    private readonly AsyncSignal _renewSoon = new();
    private readonly string _holder = Guid.NewGuid().ToString("N");
    private long _reserve;     // nothing above it is handed (what the last round stored as the handed mark)
    private long _validUntil;  // Environment.TickCount64 until which the leases held are this instance's for sure
    private Task? _leaseLoop;

    /// <summary>The lowest cursor of the partitions it reads, or null when it holds none it reads.</summary>
    private long? ReadFromLocked()
    {
        long? from = null;
        foreach (var held in _held.Values)
        {
            if (!held.Draining && (from is null || held.Cursor < from))
            {
                from = held.Cursor;
            }
        }

        return from;
    }

    /// <summary>The highest sequence the group may hand out now: none once its leases may have expired.</summary>
    private long HandUpToLocked() =>
        _leases.ExpiresWithHolder && Environment.TickCount64 >= Volatile.Read(ref _validUntil) ? 0 : Volatile.Read(ref _reserve);

    /// <summary>Queues what a read from <paramref name="from"/> found for the partitions it was read for, and moves
    /// their cursors (a partition taken while the read ran starts before it and reads again).</summary>
    private void OfferLocked(long from, List<LogEntry> read, long scannedTo)
    {
        foreach (var entry in read)
        {
            if (_held.TryGetValue(_dispatcher.LeaseOf(entry), out var held) && !held.Draining && held.Cursor >= from && entry.Sequence > held.Cursor)
            {
                _dispatcher.Enqueue(entry, redelivered: entry.Sequence <= held.HandedBefore);
            }
        }

        foreach (var held in _held.Values)
        {
            if (!held.Draining && held.Cursor >= from)
            {
                held.Cursor = Math.Max(held.Cursor, scannedTo);
            }
        }
    }

    /// <summary>Sets the group's position to the lowest of its partitions' (unchanged while it holds none).</summary>
    private void UpdatePositionLocked()
    {
        if (_held.Count == 0)
        {
            return;
        }

        Span<long> oldest = stackalloc long[IGroupLeases.Partitions];
        _dispatcher.OldestOutstanding(oldest);
        var position = long.MaxValue;
        foreach (var (partition, held) in _held)
        {
            position = Math.Min(position, AcknowledgedOf(held, oldest[partition]));
        }

        Volatile.Write(ref _position, position);
    }

    private static long AcknowledgedOf(HeldPartition held, long oldestOutstanding) =>
        oldestOutstanding == long.MaxValue ? held.Cursor : Math.Min(held.Cursor, oldestOutstanding - 1);

    /// <summary>Drops the queued events of partitions it no longer reads (lost, or being handed over); a partition handed
    /// over reads them again from before the oldest dropped, should it stay.</summary>
    private void DropUnheldLocked()
    {
        Span<long> oldestDropped = stackalloc long[IGroupLeases.Partitions];
        oldestDropped.Fill(long.MaxValue);
        if (_dispatcher.RemoveQueued(p => !_held.TryGetValue(p, out var held) || held.Draining, oldestDropped) == 0)
        {
            return;
        }

        foreach (var (partition, held) in _held)
        {
            if (oldestDropped[partition] != long.MaxValue)
            {
                held.Cursor = Math.Min(held.Cursor, oldestDropped[partition] - 1);
            }
        }
    }

    /// <summary>This instance's next round: the partitions it keeps, those it releases (drained, or all when
    /// <paramref name="leaving"/>) with their exact positions, and the mark it reserves.</summary>
    private GroupLeaseRenewal RenewalLocked(bool leaving)
    {
        Span<long> oldest = stackalloc long[IGroupLeases.Partitions];
        _dispatcher.OldestOutstanding(oldest);
        List<PartitionPosition> keep = [];
        List<PartitionPosition> release = [];
        var read = 0L;
        foreach (var (partition, held) in _held)
        {
            var acknowledged = AcknowledgedOf(held, oldest[partition]);
            read = Math.Max(read, held.Cursor);
            if (leaving || (held.Draining && _dispatcher.InFlightOf(partition) == 0))
            {
                release.Add(new PartitionPosition(partition, acknowledged, Math.Max(held.HandedBefore, _dispatcher.HandedOf(partition))));
            }
            else
            {
                keep.Add(new PartitionPosition(partition, acknowledged, 0));
            }
        }

        var reserve = _leases.ExpiresWithHolder ? Math.Max(read, _log.Head) + ReserveAhead : long.MaxValue;
        return new GroupLeaseRenewal(Key, _holder, _saved, keep, release, reserve, leaving);
    }

    /// <summary>Takes in a round's answer: forgets what it released and lost, starts what it took, and drains what it holds
    /// beyond its share.</summary>
    private void ApplyLocked(GroupLeaseRenewal renewal, GroupLeaseGrant grant, long started)
    {
        Volatile.Write(ref _validUntil, started + (long)_leases.LeaseTime.TotalMilliseconds);
        Volatile.Write(ref _reserve, Math.Max(Volatile.Read(ref _reserve), renewal.Reserve));
        foreach (var released in renewal.Released)
        {
            _held.Remove(released.Partition);
        }

        var granted = new HashSet<int>(grant.Held.Select(p => p.Partition));
        var lost = _held.Keys.Where(p => !granted.Contains(p)).ToList();
        foreach (var partition in lost)
        {
            _held.Remove(partition);
        }

        var taken = 0;
        foreach (var position in grant.Held)
        {
            if (_held.TryAdd(position.Partition, new HeldPartition(position.Acknowledged, position.Handed)))
            {
                taken++;
            }
        }

        var draining = _held.Values.Count(h => h.Draining);
        var excess = _held.Count - draining - grant.Share;
        foreach (var partition in _held.Where(h => !h.Value.Draining).Select(h => h.Key).OrderDescending().Take(Math.Max(0, excess)).ToList())
        {
            _held[partition].Draining = true;
        }

        DropUnheldLocked();
        if (taken > 0 || lost.Count > 0 || renewal.Released.Count > 0 || excess > 0)
        {
            Log.LeasesChanged(_logger, Name, taken, renewal.Released.Count, lost.Count, Math.Max(0, excess), _held.Count, grant.Share);
        }
    }

    /// <summary>Renews the leases every <see cref="IGroupLeases.RenewInterval"/> (sooner when the reservation runs low)
    /// until the last member leaves, then releases them all. Leases that cannot expire take one round.</summary>
    private async Task LeaseLoopAsync()
    {
        var closing = _closing.Token;
        while (true)
        {
            GroupLeaseRenewal renewal;
            var started = Environment.TickCount64;
            lock (_gate)
            {
                renewal = RenewalLocked(leaving: _closed);
            }

            try
            {
                var grant = await _leases.RenewAsync(renewal, renewal.Leaving ? CancellationToken.None : closing).ConfigureAwait(false);
                if (renewal.Leaving)
                {
                    return;
                }

                lock (_gate)
                {
                    if (!_closed)
                    {
                        ApplyLocked(renewal, grant, started);
                    }
                }

                _signal.Set();
            }
            catch (OperationCanceledException) when (closing.IsCancellationRequested)
            {
                continue; // the last member left during a round: the next one releases everything
            }
            catch (Exception ex)
            {
                // The store unreachable (or a bug): logged, tried again; what it holds stays its own until it may have expired.
                Log.LeaseRoundFailed(_logger, ex, Name, renewal.Leaving);
                if (renewal.Leaving)
                {
                    return; // its leases expire by themselves; another node redelivers from the stored positions
                }

                lock (_gate)
                {
                    if (Environment.TickCount64 >= Volatile.Read(ref _validUntil) && _held.Count > 0)
                    {
                        Log.LeasesExpired(_logger, Name, _held.Count);
                        _held.Clear();
                        DropUnheldLocked();
                    }
                }
            }

            if (!_leases.ExpiresWithHolder)
            {
                return;
            }

            if (!closing.IsCancellationRequested)
            {
                await Task.WhenAny(Task.Delay(_leases.RenewInterval, closing), _renewSoon.WaitAsync()).ConfigureAwait(false);
            }
        }
    }

    /// <summary>A partition this instance holds: where it has read to, the handed mark it found (what it marks redelivered),
    /// and whether it is being handed over.</summary>
    private sealed class HeldPartition(long cursor, long handedBefore)
    {
        public long Cursor { get; set; } = cursor;

        public long HandedBefore { get; } = handedBefore;

        public bool Draining { get; set; }
    }
}
