using Hub.Log;
using Hub.Server.Telemetry;
using Hub.Stages.Dispatchers;
using Microsoft.Extensions.Logging;

namespace Hub.Server.Subscriptions;

/// <summary>
/// What every delivery stage does the same way, whatever feeds it: a broadcast <see cref="Subscription"/> (a cursor
/// over the log), a group member (its group's share), an in-process handler (a <see cref="Subscription"/> whose
/// <see cref="ISubscriberChannel"/> invokes it). The stage's own part is its <see cref="PumpAsync"/>: the loop that
/// takes what is its to send and writes it to its channel, awaiting only that write.
/// </summary>
/// <remarks>
/// <para>
/// <b>Lifecycle.</b> <see cref="Start"/> runs the pump once. <see cref="End"/> ends the stage once: the first reason wins.
/// Ending with notice lets the pump finish its write and then send <c>ended {reason}</c>; ending without notice (the
/// connection has gone, or the stage is stalled) aborts the write in progress. A pump that throws is logged and ended
/// with <c>error</c>, and its client is told if its connection still takes it: one failing stage never reaches the
/// publisher or another stage. <see cref="Completion"/> completes once the pump has stopped, after the stage's
/// <c>stopped</c> callback (its registry forgets it).
/// </para>
/// <para>
/// <b>Stalls.</b> A stage whose channel stopped taking data is blocked in a write and cannot see that the log moved past
/// what it holds; <see cref="CheckStall"/>, called by the delivery loop once a
/// <see cref="StalledSubscriptionSweeper.Interval"/>, decides it from the stage's own figures and its overflow policy.
/// </para>
/// <para>
/// <b>Parking.</b> A stage with nothing to do may park instead of awaiting (<see cref="RunOnceAsync"/> answers true after
/// <see cref="TryPark"/>): its run ends, so a parked stage holds no task, no async state machine and no waiter, only its
/// own fields; <see cref="Wake"/> (an <c>Ask</c>, an append, an end) runs it again on the thread pool. At most one run
/// is ever in progress, and a wake that comes while it runs makes its next <see cref="TryPark"/> fail, so none is lost.
/// </para>
/// </remarks>
public abstract partial class DeliveryStage : ISubscription, IThreadPoolWorkItem
{
    private const int NotStarted = 0;
    private const int Parked = 1;
    private const int Running = 2;
    private const int RunningWoken = 3; // running, and woken since: the next TryPark fails

    private readonly ISubscriberChannel _channel;
    private readonly Action<DeliveryStage> _onStopped;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource? _aborted; // made by the first run that writes (see AbortToken)
    private int _run; // NotStarted, Parked, Running or RunningWoken
    private Action<LogUnavailableException, int>? _logUnavailable;
    private Ending? _ending; // set once: the reason, and whether to tell the client
    private long _delivered;
    private long _dropped;
    private int _buffered;
    private (long Cursor, long Delivered, DateTimeOffset Since)? _stuck; // read and written by the delivery loop only

    private protected DeliveryStage(string id, string wireId, string connectionId, SubscribeRequest request, ISubscriberChannel channel, HubMetrics metrics, ILogger logger, Action<DeliveryStage> stopped)
    {
        Id = id;
        WireId = wireId;
        ConnectionId = connectionId;
        Request = request;
        _channel = channel;
        Metrics = metrics;
        Logger = logger;
        _onStopped = stopped;
    }

    /// <inheritdoc />
    public string Id { get; }

    /// <inheritdoc />
    public string WireId { get; }

    /// <inheritdoc />
    public string ConnectionId { get; }

    /// <inheritdoc />
    public SubscribeRequest Request { get; }

    /// <inheritdoc />
    public abstract long Credits { get; }

    /// <inheritdoc />
    public abstract long Cursor { get; }

    /// <inheritdoc />
    public abstract long Lag { get; }

    /// <inheritdoc />
    public int Buffered => Volatile.Read(ref _buffered);

    /// <inheritdoc />
    public long Delivered => Volatile.Read(ref _delivered);

    /// <inheritdoc />
    public long Dropped => Volatile.Read(ref _dropped);

    /// <inheritdoc />
    public string? EndReason => Volatile.Read(ref _ending)?.Reason;

    /// <inheritdoc />
    public Task Completion => _stopped.Task;

    /// <summary>Its group's name, or <see langword="null"/> for a stage that is not a group's member.</summary>
    public virtual string? GroupName => null;

    /// <summary>Events handed to it and not yet acknowledged (a group member's) or completed (an in-process handler's, as its
    /// channel counts them); 0 for a subscriber's stage.</summary>
    public virtual int InFlight => _channel.InFlight;

    /// <summary>How it receives events, as <c>GET /api/subscriptions</c> says it (<c>broadcast</c>, <c>demand</c>, <c>partition</c>).</summary>
    private protected virtual string DispatchName => "broadcast";

    /// <summary>What consumes it, as <c>GET /api/subscriptions</c> says it: <c>subscriber</c>, <c>group</c> or <c>handler</c>.</summary>
    private protected virtual string ConsumerKind => ConnectionId == SubscriptionRegistry.InProcessConnectionId ? "handler" : "subscriber";

    /// <summary>What the stage is, in its logs ("subscription", "group member", …).</summary>
    private protected abstract string Kind { get; }

    private protected HubMetrics Metrics { get; }

    private protected ILogger Logger { get; }

    /// <summary>Whether it is parked: no run in progress, woken by the next <see cref="Wake"/>.</summary>
    internal bool IsParked => Volatile.Read(ref _run) == Parked;

    /// <summary>Whether it has ended (its pump is finishing).</summary>
    private protected bool IsEnding => Volatile.Read(ref _ending) is not null;

    /// <inheritdoc />
    public void Start()
    {
        OnStarting();
        if (Interlocked.CompareExchange(ref _run, Running, NotStarted) == NotStarted)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    /// <inheritdoc />
    public abstract void Ask(long n);

    /// <inheritdoc />
    public void End(string reason, bool notify)
    {
        if (Interlocked.CompareExchange(ref _ending, new Ending(reason, notify), null) is not null)
        {
            return;
        }

        if (!notify)
        {
            // Nobody will read what is in flight: stop waiting on the connection's write (a source made after this
            // line is cancelled by AbortToken, which sees this end).
            Volatile.Read(ref _aborted)?.Cancel();
        }

        OnEnded();
    }

    /// <summary>
    /// One pass of the delivery loop's stall check: answers true when this stage is stalled and its policy is to be
    /// disconnected, which the caller then does (ends it without notice and closes its connection). Stalled: its
    /// overflow policy is <c>disconnect</c>, it holds a batch its channel has not taken (<see cref="Buffered"/>), its
    /// position is behind what the log retains, and neither its position nor its count delivered has moved for
    /// <paramref name="patience"/> (progress is both together, so a group member is never taken for stalled because
    /// another member holds the group's position back). A <c>dropOldest</c> stage is never disconnected: once its
    /// write completes, it reads on and is told the gap.
    /// </summary>
    internal bool CheckStall(long firstRetained, DateTimeOffset now, TimeSpan patience)
    {
        var cursor = Cursor;
        if (Request.Overflow != OverflowPolicy.Disconnect || Buffered == 0 || cursor + 1 >= firstRetained || EndReason is not null)
        {
            _stuck = null;
            return false;
        }

        var delivered = Delivered;
        if (_stuck is not { } stuck || stuck.Cursor != cursor || stuck.Delivered != delivered)
        {
            _stuck = (cursor, delivered, now);
            return false;
        }

        return now - stuck.Since >= patience;
    }

    /// <summary>Its figures now, as the delivery snapshot lists them (each read from the stage itself).</summary>
    internal SubscriptionInfo Describe() => new(
        Id,
        WireId,
        ConnectionId,
        Request.Topics,
        Request.Types,
        GroupName,
        DispatchName,
        Demand: Request.Demand == SubscriberDemand.Auto ? "auto" : "manual",
        Overflow: Request.Overflow == OverflowPolicy.DropOldest ? "dropOldest" : "disconnect",
        Request.MaxDemand,
        Request.MinDemand,
        Credits,
        Buffered,
        Cursor,
        Lag,
        Delivered,
        Dropped,
        InFlight,
        ConsumerKind);

    /// <summary>Called by <see cref="Start"/> before the pump runs.</summary>
    private protected virtual void OnStarting()
    {
    }

    /// <summary>Called once, by the <see cref="End"/> that ended it: wake the pump, hand back what it held.</summary>
    private protected abstract void OnEnded();

    /// <summary>The stage's loop: sends what is its to send until it has ended. Cancelled by an end without notice. A
    /// stage that parks overrides <see cref="RunOnceAsync"/> instead.</summary>
    private protected virtual Task PumpAsync(CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{GetType().Name} overrides {nameof(RunOnceAsync)}.");

    /// <summary>
    /// One run of the stage: sends what is its to send, and answers true once it has parked (<see cref="TryPark"/>
    /// succeeded: it must then return at once, touching nothing more of the stage's, since a wake may already run it
    /// again), or false once it has ended. By default, runs <see cref="PumpAsync"/> to its end.
    /// </summary>
    private protected virtual async ValueTask<bool> RunOnceAsync()
    {
        await PumpAsync(AbortToken).ConfigureAwait(false);
        return false;
    }

    /// <summary>Cancelled by an end without notice: what the stage passes to its channel's writes.</summary>
    private protected CancellationToken AbortToken
    {
        get
        {
            if (Volatile.Read(ref _aborted) is { } made)
            {
                return made.Token;
            }

            var source = new CancellationTokenSource();
            if (Interlocked.CompareExchange(ref _aborted, source, null) is { } other)
            {
                source.Dispose();
                return other.Token;
            }

            if (Volatile.Read(ref _ending) is { Notify: false })
            {
                source.Cancel(); // ended without notice before the source existed
            }

            return source.Token;
        }
    }

    /// <summary>Runs the stage again if it is parked; otherwise makes its next <see cref="TryPark"/> fail. Before
    /// <see cref="Start"/>, does nothing (the first run looks at everything anyway).</summary>
    private protected void Wake()
    {
        while (true)
        {
            switch (Volatile.Read(ref _run))
            {
                case NotStarted or RunningWoken:
                    return;
                case Running when Interlocked.CompareExchange(ref _run, RunningWoken, Running) == Running:
                    return;
                case Parked when Interlocked.CompareExchange(ref _run, Running, Parked) == Parked:
                    ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
                    return;
            }
        }
    }

    /// <summary>Called by the run when it has nothing to do: parks it and answers true (the run must then return at
    /// once), or answers false when a <see cref="Wake"/> came since the last call (look again).</summary>
    private protected bool TryPark()
    {
        while (true)
        {
            if (Interlocked.CompareExchange(ref _run, Running, RunningWoken) == RunningWoken)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _run, Parked, Running) == Running)
            {
                return true;
            }
        }
    }

    void IThreadPoolWorkItem.Execute() => _ = RunAsync();

    /// <summary>Counts <paramref name="count"/> events taken for the channel and not yet written (negative: written or dropped).</summary>
    private protected void AddBuffered(int count) => Interlocked.Add(ref _buffered, count);

    /// <summary><see cref="OnLogUnavailable"/> as one delegate, made at the first read (not one per read).</summary>
    private protected Action<LogUnavailableException, int> LogUnavailable => _logUnavailable ??= OnLogUnavailable;

    /// <summary>Called for each failed read of an outage of the log's store (<see cref="EventLogReads"/>): said once
    /// per outage, at its first try.</summary>
    private protected void OnLogUnavailable(LogUnavailableException exception, int attempt)
    {
        if (attempt == 1)
        {
            Log.ReadWaiting(Logger, exception, Kind, Id, ConnectionId);
        }
    }

    /// <summary>Sends <c>events</c> and counts them delivered once the channel has taken them.</summary>
    private protected async Task SendEventsAsync(List<LogEntry> batch, CancellationToken cancellationToken)
    {
        await _channel.SendEventsAsync(ConnectionId, WireId, batch, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _delivered, batch.Count);
        Metrics.RecordDelivered(batch.Count);
    }

    /// <summary>Sends <c>gap</c> and counts its positions dropped.</summary>
    private protected async Task SendGapAsync(GapNotice gap, CancellationToken cancellationToken)
    {
        await _channel.SendGapAsync(ConnectionId, WireId, gap, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _dropped, gap.To - gap.From + 1);
        Metrics.RecordDropped(gap.To - gap.From + 1, gap.Reason);
    }

    private async Task RunAsync()
    {
        var parked = false;
        try
        {
            parked = await RunOnceAsync().ConfigureAwait(false);
            if (parked)
            {
                return; // a wake runs it again; nothing here is this run's any more
            }

            if (Volatile.Read(ref _ending) is { Notify: true } ending)
            {
                await _channel.SendEndedAsync(ConnectionId, WireId, new EndedNotice(ending.Reason), AbortToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (Volatile.Read(ref _aborted) is { IsCancellationRequested: true })
        {
            // Ended without notice while a write was pending: nothing more to do.
        }
        catch (Exception ex)
        {
            // One failing stage is logged, ended and told so; it never reaches the publisher or another stage.
            Log.StageFailed(Logger, ex, Kind, Id, ConnectionId);
            End("error", notify: true);
            if (Volatile.Read(ref _ending) is { Notify: true } ending
                && await _channel.TrySendEndedAsync(ConnectionId, WireId, ending.Reason, AbortToken).ConfigureAwait(false) is { } notSent)
            {
                Log.EndedNotSent(Logger, notSent, Kind, Id, ConnectionId);
            }
        }
        finally
        {
            if (!parked)
            {
                _onStopped(this);
                _stopped.TrySetResult();
            }
        }
    }

    private sealed record Ending(string Reason, bool Notify);
}
