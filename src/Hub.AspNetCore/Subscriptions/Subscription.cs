using System.Diagnostics;
using Hub.Log;
using Hub.Server.Telemetry;
using Hub.Stages.Dispatchers;
using Hub.Stages.Subscriptions;
using Microsoft.Extensions.Logging;

namespace Hub.Server.Subscriptions;

/// <summary>
/// One subscriber's stage: a cursor into the shared log, a demand window (credits granted by the client's
/// <c>Ask</c>), a selector, and an overflow policy. Its pump sleeps until both hold, its cursor is behind the head and
/// it has credits; then it reads up to <c>min(credits, batch bound)</c> matching events and sends one <c>events</c>
/// message, awaiting that connection's write. A stalled socket holds only this pump; its backlog is the log.
/// </summary>
/// <remarks>
/// Threads: <see cref="Ask"/> and <see cref="End"/> come from hub invocations and REST calls; everything else runs on
/// the pump, which is the only writer of the cursor and the only one that spends credits, so credits never go negative.
/// </remarks>
public sealed partial class Subscription : ISubscription, IAppendListener
{
    private readonly IEventLog _log;
    private readonly ISubscriberChannel _channel;
    private readonly EventFilter _filter;
    private readonly int _maxBatchBytes;
    private readonly ILogger _logger;
    private readonly Action<Subscription> _onStopped;
    private readonly HubMetrics _metrics;
    private readonly AsyncSignal _signal = new();
    private readonly CancellationTokenSource _aborted = new();
    private long _credits;
    private long _cursor;
    private long _delivered;
    private long _dropped;
    private int _buffered;
    private int _listening; // 1 while registered with the log for the next append, so it registers once
    private Ending? _ending; // set once, reason and whether to tell the client together
    private bool _started; // false only while a replay that began behind the retention has not read yet
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal Subscription(string id, string wireId, string connectionId, SubscribeRequest request, long position, IEventLog log, ISubscriberChannel channel, int maxBatchBytes, ILogger logger, Action<Subscription> stopped, HubMetrics metrics)
    {
        _onStopped = stopped;
        _metrics = metrics;
        Id = id;
        WireId = wireId;
        ConnectionId = connectionId;
        Request = request;
        _log = log;
        _channel = channel;
        _maxBatchBytes = maxBatchBytes;
        _logger = logger;
        _filter = new EventFilter(request.Patterns, request.Types);
        _cursor = position;
        // A replay that starts before what the log keeps will meet truncation first: that is "retention", not lag.
        _started = position + 1 >= log.FirstRetained;
        _credits = request.Demand == DemandMode.Automatic ? request.MaxDemand : 0;
    }

    /// <inheritdoc />
    public string Id { get; }

    /// <inheritdoc />
    public string WireId { get; }

    /// <summary>The SignalR connection it belongs to.</summary>
    public string ConnectionId { get; }

    /// <summary>What the client asked for.</summary>
    public SubscribeRequest Request { get; }

    /// <summary>Credits held: how many more events the server may send now.</summary>
    public long Credits => Volatile.Read(ref _credits);

    /// <summary>The last sequence this subscription has passed (delivered, skipped as not matching, or dropped).</summary>
    public long Cursor => Volatile.Read(ref _cursor);

    /// <summary>Events sent so far.</summary>
    public long Delivered => Volatile.Read(ref _delivered);

    /// <summary>Log positions skipped by the overflow policy (they may include events that did not match).</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>Events taken from the log and handed to the connection, whose write has not completed yet.</summary>
    public int Buffered => Volatile.Read(ref _buffered);

    /// <summary>Log positions between the cursor and the head.</summary>
    public long Lag => Math.Max(0, _log.Head - Cursor);

    /// <summary>Why it ended, once it has.</summary>
    public string? EndReason => Volatile.Read(ref _ending)?.Reason;

    /// <summary>Completes when the pump has stopped (a subscription ended before its pump started still runs it, to
    /// send its <c>ended</c>).</summary>
    public Task Completion => _stopped.Task;

    /// <summary>Starts the pump. Called once, after the client has been answered.</summary>
    public void Start() => _ = Task.Run(RunAsync);

    /// <summary>Grants <paramref name="n"/> more credits (n ≥ 1; checked by the caller). Saturates instead of overflowing.</summary>
    public void Ask(long n)
    {
        Debug.Assert(n >= 1);
        long current, next;
        do
        {
            current = Volatile.Read(ref _credits);
            next = current > long.MaxValue - n ? long.MaxValue : current + n;
        }
        while (Interlocked.CompareExchange(ref _credits, next, current) != current);

        _signal.Set();
    }

    /// <summary>
    /// Ends the subscription. With <paramref name="notify"/> the client is told with <c>ended</c>; a subscription ends once,
    /// the first reason wins.
    /// </summary>
    public void End(string reason, bool notify)
    {
        if (Interlocked.CompareExchange(ref _ending, new Ending(reason, notify), null) is not null)
        {
            return;
        }

        if (!notify)
        {
            // Nobody will read what is in flight: stop waiting on the connection's write.
            _aborted.Cancel();
        }

        _signal.Set();
    }

    /// <inheritdoc />
    void IAppendListener.OnAppended()
    {
        Volatile.Write(ref _listening, 0);
        _signal.Set();
    }

    private async Task RunAsync()
    {
        var batch = new List<LogEntry>();
        var token = _aborted.Token;
        try
        {
            while (EndReason is null)
            {
                var credits = Credits;
                if (credits <= 0)
                {
                    await _signal.WaitAsync().ConfigureAwait(false);
                    continue;
                }

                if (_cursor >= _log.Head)
                {
                    // Register (once: an Ask also wakes this loop), then look again, so an append between the two is
                    // never missed.
                    if (Interlocked.Exchange(ref _listening, 1) == 0)
                    {
                        _log.ListenOnce(this);
                    }

                    if (_cursor >= _log.Head)
                    {
                        await _signal.WaitAsync().ConfigureAwait(false);
                    }

                    continue;
                }

                batch.Clear();
                var read = await _log.ReadAsync(_cursor, _filter, (int)Math.Min(credits, int.MaxValue), _maxBatchBytes, batch, token).ConfigureAwait(false);
                if (read.Truncated)
                {
                    await FellBehindAsync(read.FirstRetained, token).ConfigureAwait(false);
                    continue;
                }

                _started = true;
                if (batch.Count > 0)
                {
                    // Spend the credits before the write: the client may answer with Ask as soon as it reads.
                    Interlocked.Add(ref _credits, -batch.Count);
                    Volatile.Write(ref _buffered, batch.Count);
                    AssertInvariants();
                    await _channel.SendEventsAsync(ConnectionId, WireId, batch, token).ConfigureAwait(false);
                    Interlocked.Add(ref _delivered, batch.Count);
                    _metrics.RecordDelivered(batch.Count);
                    Volatile.Write(ref _buffered, 0);
                }

                Volatile.Write(ref _cursor, read.ScannedTo);
            }

            if (Volatile.Read(ref _ending) is { Notify: true })
            {
                await _channel.SendEndedAsync(ConnectionId, WireId, new EndedNotice(EndReason!), token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Ended without notice while a write was pending: nothing more to do.
        }
        catch (Exception ex)
        {
            // One failing subscriber is logged, ended and told so; it never reaches the publisher or another subscriber.
            Log.PumpFailed(_logger, ex, Id, ConnectionId);
            End("error", notify: true);
            if (Volatile.Read(ref _ending) is { Notify: true } ending
                && await _channel.TrySendEndedAsync(ConnectionId, WireId, ending.Reason, token).ConfigureAwait(false) is { } notSent)
            {
                Log.EndedNotSent(_logger, notSent, Id, ConnectionId);
            }
        }
        finally
        {
            _onStopped(this);
            _stopped.TrySetResult();
        }
    }

    /// <summary>The log no longer holds what comes after the cursor: apply the overflow policy.</summary>
    private async Task FellBehindAsync(long firstRetained, CancellationToken token)
    {
        // Behind from the very start means the client asked to replay more than is kept; later, it fell behind.
        var reason = _started ? "overflow" : "retention";
        _started = true;
        var from = _cursor + 1;
        var to = firstRetained - 1;
        if (Request.Overflow == OverflowPolicy.Disconnect)
        {
            Log.FellBehind(_logger, Id, from, to, reason, "ended");
            End(reason, notify: true);
            return;
        }

        Log.FellBehind(_logger, Id, from, to, reason, "gap");
        await _channel.SendGapAsync(ConnectionId, WireId, new GapNotice(from, to, reason), token).ConfigureAwait(false);
        Interlocked.Add(ref _dropped, to - from + 1);
        _metrics.RecordDropped(to - from + 1, reason);
        Volatile.Write(ref _cursor, to);
    }

    private sealed record Ending(string Reason, bool Notify);

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(Volatile.Read(ref _credits) >= 0, "credits are never negative");
        Debug.Assert(_cursor <= _log.Head, "the cursor never passes the head");
    }
}
