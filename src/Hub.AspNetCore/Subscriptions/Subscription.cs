using System.Diagnostics;
using Hub.Log;
using Hub.Server.Telemetry;
using Hub.Stages.Dispatchers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.ObjectPool;

namespace Hub.Server.Subscriptions;

/// <summary>
/// One subscriber's stage in a broadcast: a <see cref="BroadcastCursor"/> into the shared log (its position, its credits
/// granted by the client's <c>Ask</c>, its overflow policy), a selector, and a pump. The pump parks until its cursor is
/// behind the head and it has credits; then it reads up to <c>min(credits, batch bound)</c> matching events and sends
/// one <c>events</c> message, awaiting that connection's write. A stalled socket holds only this pump; its backlog is
/// the log. A parked subscription holds no task and no batch: its fields, its cursor and its filter (see
/// <see cref="DeliveryStage"/>, parking).
/// </summary>
/// <remarks>
/// The cursor is the same state machine <see cref="CursorBroadcastDispatcher{T}"/> runs over its own chunk log: here
/// the log is the hub's <see cref="IEventLog"/> (its <c>LogTail</c>), read by this pump. Threads: <see cref="Ask"/> and
/// <see cref="DeliveryStage.End"/> come from hub invocations and REST calls; everything else runs on the pump, the only
/// writer of the position and the only one that spends credits.
/// </remarks>
public sealed partial class Subscription : DeliveryStage, IAppendListener
{
    /// <summary>The batch lists of running pumps: a parked one holds none.</summary>
    private static readonly ObjectPool<List<LogEntry>> Batches = new DefaultObjectPool<List<LogEntry>>(new BatchPolicy(), Environment.ProcessorCount * 4);

    private readonly IEventLog _log;
    private readonly EventFilter _filter;
    private readonly int _maxBatchBytes;
    private readonly BroadcastCursor _cursor;
    private int _listening; // 1 while registered with the log for the next append, so it registers once

    internal Subscription(string id, string wireId, string connectionId, SubscribeRequest request, long position, IEventLog log, ISubscriberChannel channel, int maxBatchBytes, ILogger logger, Action<DeliveryStage> stopped, HubMetrics metrics)
        : base(id, wireId, connectionId, request, channel, metrics, logger, stopped)
    {
        _log = log;
        _maxBatchBytes = maxBatchBytes;
        _filter = new EventFilter(request.Patterns, request.Types);
        _cursor = new BroadcastCursor(position, request.InitialCredits, request.Overflow, log.FirstRetained);
    }

    /// <inheritdoc />
    public override long Credits => _cursor.Credits;

    /// <summary>The last sequence this subscription has passed (delivered, skipped as not matching, or dropped).</summary>
    public override long Cursor => _cursor.Position;

    /// <summary>Log positions between the cursor and the head.</summary>
    public override long Lag => Math.Max(0, _log.Head - Cursor);

    private protected override string Kind => "subscription";

    /// <summary>Grants <paramref name="n"/> more credits (n ≥ 1; checked by the caller). Saturates instead of overflowing.</summary>
    public override void Ask(long n)
    {
        Debug.Assert(n >= 1);
        // A pump parks for want of credits (only an Ask restarts it: wake it) or caught up with credits to spare (then it
        // is registered with the log, whose next append wakes it: an Ask brings nothing it could send now, and waking it
        // would only queue a run that parks again, once per Ask of every subscriber that keeps up). A grant that finds
        // credits above 0 comes after the one that found none, which woke the pump; one that finds the cursor behind
        // the head wakes it too.
        if (_cursor.Grant(n) <= 0 || !_cursor.IsCaughtUp(_log.Head))
        {
            Wake();
        }
    }

    /// <inheritdoc />
    void IAppendListener.OnAppended()
    {
        Volatile.Write(ref _listening, 0);
        Wake();
    }

    private protected override void OnEnded() => Wake();

    /// <summary>Sends until it has nothing to do (then parks: true) or has ended (false).</summary>
    private protected override async ValueTask<bool> RunOnceAsync()
    {
        var batch = Batches.Get();
        try
        {
            while (!IsEnding)
            {
                if (_cursor.Credits <= 0)
                {
                    if (TryPark())
                    {
                        return true;
                    }

                    continue;
                }

                if (_cursor.IsCaughtUp(_log.Head))
                {
                    // Register (once: an Ask also wakes this loop), then look again, so an append between the two is
                    // never missed.
                    if (Interlocked.Exchange(ref _listening, 1) == 0)
                    {
                        _log.ListenOnce(this);
                    }

                    if (_cursor.IsCaughtUp(_log.Head) && TryPark())
                    {
                        return true;
                    }

                    continue;
                }

                batch.Clear();
                var token = AbortToken;
                var read = await _log.ReadThroughOutagesAsync(_cursor.Position, _filter, _cursor.MaxToTake, _maxBatchBytes, batch, LogUnavailable, token).ConfigureAwait(false);
                if (read.Truncated)
                {
                    await FellBehindAsync(read.FirstRetained, token).ConfigureAwait(false);
                    continue;
                }

                if (batch.Count > 0)
                {
                    // Spend the credits before the write: the client may answer with Ask as soon as it reads.
                    _cursor.Take(batch.Count);
                    AddBuffered(batch.Count);
                    await SendEventsAsync(batch, token).ConfigureAwait(false);
                    AddBuffered(-batch.Count);
                }

                _cursor.PassTo(read.ScannedTo);
                Debug.Assert(_cursor.Position <= _log.Head, "the cursor never passes the head");
            }

            return false;
        }
        finally
        {
            Batches.Return(batch);
        }
    }

    /// <summary>The log no longer holds what comes after the cursor: apply the overflow policy.</summary>
    private async Task FellBehindAsync(long firstRetained, CancellationToken token)
    {
        var lapped = _cursor.FellBehind(firstRetained);
        Log.FellBehind(Logger, Id, lapped.From, lapped.To, lapped.Reason, lapped.Ends ? "ended" : "gap");
        if (lapped.Ends)
        {
            End(lapped.Reason, notify: true);
            return;
        }

        await SendGapAsync(new GapNotice(lapped.From, lapped.To, lapped.Reason), token).ConfigureAwait(false);
        _cursor.PassTo(lapped.To);
    }

    /// <summary>Pooled batch lists come back empty; one grown past a batch of 4,096 events is dropped, not kept.</summary>
    private sealed class BatchPolicy : PooledObjectPolicy<List<LogEntry>>
    {
        public override List<LogEntry> Create() => [];

        public override bool Return(List<LogEntry> obj)
        {
            obj.Clear();
            return obj.Capacity <= 4096;
        }
    }
}
