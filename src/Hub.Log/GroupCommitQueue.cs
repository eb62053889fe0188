using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Hub.Log;

/// <summary>
/// The queue of a durable log's one writer, and its loop: appends wait here (their events counted, so the engine can
/// bound them), with two markers at most one of each waiting (a write of the group positions saved meanwhile, and a
/// maintenance pass); the loop takes every append waiting, up to a group's size, into one commit, then the markers it
/// met, calling the engine for each. Once the log has failed (<see cref="WriteHealth"/>), what waits is refused, not
/// written; an error the engine does not catch stops the loop, and what it held and everything queued after is refused,
/// never left waiting.
/// </summary>
internal sealed class GroupCommitQueue
{
    private static readonly PendingAppend Maintenance = new([], null);
    private static readonly PendingAppend SavePositions = new([], null);

    private readonly Channel<PendingAppend> _channel = Channel.CreateUnbounded<PendingAppend>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<GroupKey, (GroupPosition Position, DateTimeOffset? Gone)> _unsavedGroups = new();
    private long _pendingEvents;    // events queued and not answered yet
    private int _maintenanceQueued; // 1 while a maintenance pass waits in the queue
    private int _positionsQueued;   // 1 while a write of group positions waits in the queue

    /// <summary>Events queued and not answered yet.</summary>
    public long PendingEvents => Volatile.Read(ref _pendingEvents);

    /// <summary>Counts events in (positive) or out (negative, once answered); the count after.</summary>
    public long AddPending(int events) => Interlocked.Add(ref _pendingEvents, events);

    /// <summary>Queues an append; false once the queue is closed (the log stopping or failed).</summary>
    public bool TryEnqueue(PendingAppend append) => _channel.Writer.TryWrite(append);

    /// <summary>Closes the queue: the loop writes (or, failed, refuses) what waits, and stops.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    /// <summary>Asks the writer for a maintenance pass, unless one waits already; false once the queue is closed.</summary>
    public bool RequestMaintenance() => Interlocked.Exchange(ref _maintenanceQueued, 1) != 0 || _channel.Writer.TryWrite(Maintenance);

    /// <summary>
    /// Keeps a group's position in <paramref name="groups"/> at once, and for the writer to save soon, asking it to unless
    /// it was asked already. False, keeping nothing, when <paramref name="groups"/> refuses it (see <see cref="GroupPositions.TrySave"/>).
    /// </summary>
    public bool SavePosition(GroupPositions groups, GroupKey group, GroupPosition position, DateTimeOffset? gone)
    {
        if (!groups.TrySave(group, position, gone))
        {
            return false;
        }

        _unsavedGroups[group] = (position, gone);
        if (Interlocked.Exchange(ref _positionsQueued, 1) == 0 && !_channel.Writer.TryWrite(SavePositions))
        {
            Volatile.Write(ref _positionsQueued, 0); // closing: what is unsaved is lost, and only costs re-reading
        }

        return true;
    }

    /// <summary>The positions saved since the last time, each taken once (for the writer to write).</summary>
    public IEnumerable<(GroupKey Group, GroupPosition Position, DateTimeOffset? Gone)> TakeUnsavedPositions()
    {
        foreach (var group in _unsavedGroups.Keys)
        {
            if (_unsavedGroups.TryRemove(group, out var saved))
            {
                yield return (group, saved.Position, saved.Gone);
            }
        }
    }

    /// <summary>Refuses the appends not answered yet, with <paramref name="refusal"/>.</summary>
    public void Refuse(List<PendingAppend> appends, LogUnavailableException refusal)
    {
        foreach (var append in appends)
        {
            if (append.Done.TrySetException(refusal))
            {
                Interlocked.Add(ref _pendingEvents, -append.Events.Count);
            }
        }
    }

    /// <summary>
    /// The writer's loop, until the queue is closed and empty: each group (its appends and their event count) goes to
    /// <paramref name="commit"/>, then <paramref name="savePositions"/> and <paramref name="maintain"/> if asked for. An
    /// exception from them goes to <paramref name="fail"/> (which marks <paramref name="health"/> failed), then what was
    /// held and what waits is refused.
    /// </summary>
    public async Task RunAsync(
        int maxGroupEvents,
        WriteHealth health,
        Func<List<PendingAppend>, int, ValueTask> commit,
        Func<ValueTask> savePositions,
        Func<ValueTask> maintain,
        Action<string, Exception> fail)
    {
        var group = new List<PendingAppend>();
        var reader = _channel.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                group.Clear();
                var events = 0;
                var maintenance = false;
                var positions = false;
                while (events < maxGroupEvents && reader.TryRead(out var append))
                {
                    if (ReferenceEquals(append, Maintenance))
                    {
                        maintenance = true;
                        continue;
                    }

                    if (ReferenceEquals(append, SavePositions))
                    {
                        positions = true;
                        continue;
                    }

                    group.Add(append);
                    events += append.Events.Count;
                }

                if (health.Failure is { } failure)
                {
                    // Failed while these waited: refused, not written.
                    Refuse(group, health.Refusal(failure));
                    continue;
                }

                if (group.Count > 0)
                {
                    await commit(group, events).ConfigureAwait(false);
                }

                if (positions)
                {
                    Volatile.Write(ref _positionsQueued, 0);
                    await savePositions().ConfigureAwait(false);
                }

                if (maintenance)
                {
                    Volatile.Write(ref _maintenanceQueued, 0);
                    await maintain().ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex)
        {
            // A bug, or a store broken under the writer (a table gone, a corrupt page): a restart is what can help.
            fail($"its writer stopped on {ex.GetType().Name}: {ex.Message}", ex);
            var refusal = health.Refusal();
            Refuse(group, refusal);
            var rest = new List<PendingAppend>();
            while (reader.TryRead(out var append))
            {
                if (!ReferenceEquals(append, Maintenance) && !ReferenceEquals(append, SavePositions))
                {
                    rest.Add(append);
                }
            }

            Refuse(rest, refusal);
        }
    }
}
