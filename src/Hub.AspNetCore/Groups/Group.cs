using Hub.Log;
using Hub.Server.Subscriptions;
using Hub.Stages.Dispatchers;
using Microsoft.Extensions.Logging;

namespace Hub.Server.Groups;

/// <summary>
/// One group's stage: a single cursor into the log shared by its members, a <see cref="GroupDispatcher"/> that hands
/// each event to one member within that member's credits, and the group's acknowledged position, stored in the log's
/// store so the group resumes there after a restart.
/// </summary>
/// <remarks>
/// The pump is the only reader of the log and the only writer of the cursor. Joins, leaves and asks arrive from hub
/// invocations and change the dispatcher under <see cref="_gate"/>; nothing under it awaits or writes to a socket.
/// Batches go to each member's outbox, which only that member's sender drains, so a stalled member holds no one else.
/// The group reads ahead of its members' credits by at most <see cref="MaxQueued"/> events (what waits for a
/// partition whose owner has no credits); past that it waits.
/// <para><b>Behind the retention.</b> When the log no longer holds what comes after the group's cursor, each member is
/// told by its own overflow policy, as a subscriber would be: <c>dropOldest</c> gets <c>gap {from, to, reason}</c>,
/// <c>disconnect</c> gets <c>ended {reason}</c> (and leaves); the reason is <c>retention</c> when the group started
/// (from its stored position or a member's <c>after</c>) before what the log keeps, <c>overflow</c> when it fell behind
/// later. The group then goes on from the oldest retained event: every member of the moment was told of the loss.</para>
/// <para><b>Across nodes.</b> The group's stream is split into leased partitions (<see cref="IGroupLeases"/>); this
/// instance reads and hands out only the events of the partitions it holds, each from its own cursor, and stores each
/// one's acknowledged position with its lease (<c>Group.Leases.cs</c>). On a log that one process owns it holds every
/// partition from the start, and behaves as one group did before (its one position is still stored as before).</para>
/// </remarks>
internal sealed partial class Group : IAppendListener
{
    /// <summary>The most events a group holds read but not handed out.</summary>
    public const int MaxQueued = 10_000;

    private readonly Lock _gate = new();
    private readonly GroupDispatcher _dispatcher;
    private readonly Dictionary<string, GroupMember> _members = new(StringComparer.Ordinal); // joined or about to
    private readonly IEventLog _log;
    private readonly EventFilter _filter;
    private readonly int _maxBatchBytes;
    private readonly ILogger _logger;
    private readonly AsyncSignal _signal = new();
    private readonly CancellationTokenSource _closing = new(); // cancelled when the last member leaves: a read in progress stops
    private readonly long _handedBefore;
    private long _position;
    private GroupPosition _saved;
    private int _listening;
    private bool _closed;
    private bool _started; // false only while a group that began behind the retention has not read yet
    private Task? _pump;

    /// <param name="key">Who the group is: its name and what it reads.</param>
    /// <param name="template">The first member's request: the topics, types and dispatch every member shares.</param>
    /// <param name="mode">How it shares events.</param>
    /// <param name="stored">Where it starts: its stored position (a new group's is stored before it starts).</param>
    /// <param name="log">The log it reads and stores its position in.</param>
    /// <param name="maxBatchBytes">The largest batch it reads at once.</param>
    /// <param name="logger">Its logger.</param>
    public Group(GroupKey key, SubscribeRequest template, GroupDispatchMode mode, GroupPosition stored, IEventLog log, int maxBatchBytes, ILogger logger)
    {
        Key = key;
        Template = template;
        Mode = mode;
        _dispatcher = new GroupDispatcher(mode, maxBatchBytes);
        _log = log;
        _leases = log.GroupLeases;
        _reserve = _leases.ExpiresWithHolder ? 0 : long.MaxValue;
        _filter = new EventFilter(template.Patterns, template.Types);
        _maxBatchBytes = maxBatchBytes;
        _logger = logger;
        _position = stored.Acknowledged;
        _handedBefore = stored.Handed;
        _saved = stored;
        _started = stored.Acknowledged + 1 >= log.FirstRetained;
    }

    /// <summary>A batch to a member stops growing at this many bytes of events, and a member holding this many unsent
    /// takes no more (<c>Hub:Subscriptions:MaxBatchBytes</c>).</summary>
    public int MaxBatchBytes => _maxBatchBytes;

    /// <summary>Who the group is: its name and the fingerprint of what it reads.</summary>
    public GroupKey Key { get; }

    /// <summary>The group's name (groups of one name with other topics are other groups).</summary>
    public string Name => Key.Name;

    /// <summary>The topics, types and dispatch every member must share (the first member's).</summary>
    public SubscribeRequest Template { get; }

    /// <summary>How the group shares its events.</summary>
    public GroupDispatchMode Mode { get; }

    /// <summary>Every matching event up to here has been acknowledged.</summary>
    public long Position => Volatile.Read(ref _position);

    /// <summary>The last sequence the group has read from the log for every partition it holds.</summary>
    public long Cursor
    {
        get
        {
            lock (_gate)
            {
                return ReadFromLocked() ?? _position;
            }
        }
    }

    /// <summary>Log positions between the acknowledged position and the head.</summary>
    public long Lag => Math.Max(0, _log.Head - Position);

    /// <summary>Members joined or joining.</summary>
    public int MemberCount
    {
        get
        {
            lock (_gate)
            {
                return _members.Count;
            }
        }
    }

    /// <summary>A consistent reading of the group for the API.</summary>
    public GroupState Describe()
    {
        lock (_gate)
        {
            return new GroupState(
                [.. _members.Keys.Order(StringComparer.Ordinal)],
                _dispatcher.Queued,
                _dispatcher.InFlight);
        }
    }

    /// <summary>A member's credits and in-flight count.</summary>
    public (long Credits, int InFlight) Describe(GroupMember member)
    {
        lock (_gate)
        {
            return _dispatcher.Describe(member.Id);
        }
    }

    /// <summary>Holds a place for a member before it starts, so the group is not closed in between. False once closed.</summary>
    public bool Reserve(GroupMember member)
    {
        lock (_gate)
        {
            if (_closed)
            {
                return false;
            }

            _members.Add(member.Id, member);
            return true;
        }
    }

    /// <summary>Lets a reserved member take events.</summary>
    public void Activate(GroupMember member, long credits)
    {
        lock (_gate)
        {
            if (_closed || !_members.ContainsKey(member.Id))
            {
                return;
            }

            _dispatcher.Join(member.Id, credits);
            if (_pump is null)
            {
                _leaseLoop = Task.Run(LeaseLoopAsync);
                _pump = Task.Run(PumpAsync);
            }
        }

        _signal.Set();
    }

    /// <summary>
    /// Removes a member; what it held unacknowledged goes to the others, marked redelivered. Returns true when it was the
    /// last one: the group is then closed, its position saved.
    /// </summary>
    public bool Leave(GroupMember member)
    {
        int returned;
        bool last;
        lock (_gate)
        {
            if (!_members.Remove(member.Id))
            {
                return false;
            }

            returned = _dispatcher.Leave(member.Id);
            DropUnheldLocked(); // what it held of partitions being handed over (or lost) goes back with them, not to the others
            last = _members.Count == 0;
            if (last)
            {
                // Saved here, before the registry forgets the group, so the group started again reads this position; the
                // pump saves nothing once closed. Saved even when unchanged: it marks when the group went, for expiry.
                UpdatePositionLocked();
                SavePositionLocked(live: false);
                _closed = true;
            }
        }

        if (last)
        {
            _closing.Cancel();
        }

        if (returned > 0)
        {
            Log.Redelivering(_logger, Name, member.Id, returned);
        }

        _signal.Set();
        return last;
    }

    /// <summary>Grants credits to a member and acknowledges its oldest events in flight.</summary>
    public void Ask(GroupMember member, long credits)
    {
        lock (_gate)
        {
            _dispatcher.Ask(member.Id, credits);
        }

        _signal.Set();
    }

    /// <summary>A member's write completed: it may take more, and the group may have held events back for it.</summary>
    public void MemberHasRoom() => _signal.Set();

    /// <summary>Completes when the pump has stopped and the leases are released (after the last member left).</summary>
    public Task Completion => _pump is null ? Task.CompletedTask : Task.WhenAll(_pump, _leaseLoop ?? Task.CompletedTask);

    /// <inheritdoc />
    void IAppendListener.OnAppended()
    {
        Volatile.Write(ref _listening, 0);
        _signal.Set();
    }

    private async Task PumpAsync()
    {
        var read = new List<LogEntry>();
        var closing = _closing.Token;
        try
        {
            while (true)
            {
                long budget;
                long? from;
                lock (_gate)
                {
                    if (_closed)
                    {
                        break;
                    }

                    _dispatcher.Dispatch((id, batch) => _members[id].Post(batch), id => _members[id].HasRoom, HandUpToLocked());
                    budget = Math.Min(_dispatcher.TotalCredits, MaxQueued - _dispatcher.Queued);
                    from = ReadFromLocked();
                    UpdatePositionLocked();
                }

                SavePosition();
                if (budget <= 0 || from is not { } cursor)
                {
                    // No credits, a full queue, or no partition held yet (the lease loop wakes it when it takes some).
                    await _signal.WaitAsync().ConfigureAwait(false);
                    continue;
                }

                if (cursor >= _log.Head)
                {
                    if (Interlocked.Exchange(ref _listening, 1) == 0)
                    {
                        _log.ListenOnce(this);
                    }

                    if (cursor >= _log.Head)
                    {
                        await _signal.WaitAsync().ConfigureAwait(false);
                    }

                    continue;
                }

                read.Clear();
                var result = await _log.ReadThroughOutagesAsync(cursor, _filter, (int)Math.Min(budget, int.MaxValue), _maxBatchBytes, read, OnLogUnavailable, closing).ConfigureAwait(false);
                if (result.Truncated)
                {
                    FellBehind(cursor, result.FirstRetained);
                    continue;
                }

                _started = true;

                lock (_gate)
                {
                    if (_closed)
                    {
                        break;
                    }

                    OfferLocked(cursor, read, result.ScannedTo);
                }

                if (_leases.ExpiresWithHolder && result.ScannedTo > Volatile.Read(ref _reserve) - ReserveAhead / 2)
                {
                    _renewSoon.Set(); // what it read nears its reservation: raise it before the members need it
                }
            }
        }
        catch (OperationCanceledException) when (closing.IsCancellationRequested)
        {
            // The last member left during a read: nothing more to do.
        }
        catch (Exception ex)
        {
            // A failing group is logged and its members ended; the publisher and other subscribers never see it.
            Log.PumpFailed(_logger, ex, Name);
            GroupMember[] members;
            lock (_gate)
            {
                members = [.. _members.Values];
            }

            foreach (var member in members)
            {
                member.End("error", notify: true);
            }
        }
    }

    /// <summary>
    /// The log no longer holds what comes after the cursor: each member is told by its overflow policy (a gap, or ended),
    /// and the group moves on to the oldest retained event.
    /// </summary>
    private void FellBehind(long cursor, long firstRetained)
    {
        // Behind from the very start means the group began before what is kept; later, it fell behind.
        var reason = _started ? "overflow" : "retention";
        _started = true;
        var gap = new GapNotice(cursor + 1, firstRetained - 1, reason);
        Log.FellBehind(_logger, Name, gap.From, gap.To, reason);
        List<GroupMember>? ending = null;
        lock (_gate)
        {
            foreach (var member in _members.Values)
            {
                if (member.Request.Overflow == OverflowPolicy.Disconnect)
                {
                    (ending ??= []).Add(member);
                }
                else
                {
                    member.PostGap(gap);
                }
            }

            foreach (var held in _held.Values)
            {
                held.Cursor = Math.Max(held.Cursor, firstRetained - 1);
            }
        }

        // Outside the lock: ending a member takes it out of the group (the registry's lock, then this one).
        foreach (var member in ending ?? [])
        {
            member.End(reason, notify: true);
        }
    }

    private void SavePosition()
    {
        lock (_gate)
        {
            if (!_closed)
            {
                SavePositionLocked();
            }
        }
    }

    /// <summary>Stores the position when it changed, or when the group goes (the log keeps it in memory at once and
    /// writes it soon after). A group's position was stored when it started, so the log's bound never refuses it.</summary>
    private void SavePositionLocked(bool live = true)
    {
        var position = new GroupPosition(Volatile.Read(ref _position), Math.Max(_handedBefore, _dispatcher.HighestHanded));
        if (position != _saved || !live)
        {
            _saved = position;
            _log.SaveGroupPosition(Key, position, live);
        }
    }

    /// <summary>A read of the group's pump failed because the log's store is unreachable: said once per outage; the pump
    /// waits and reads on from where it was (<see cref="EventLogReads"/>).</summary>
    private void OnLogUnavailable(LogUnavailableException exception, int attempt)
    {
        if (attempt == 1)
        {
            Log.ReadWaiting(_logger, exception, Name);
        }
    }
}

/// <summary>A reading of a group for the API: its members, and its events queued and in flight.</summary>
internal sealed record GroupState(IReadOnlyList<string> Members, long Queued, long InFlight);
