using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.SignalR;

namespace Hub.Client;

/// <summary>
/// One subscription of a <see cref="HubClient"/>: what the hub sends for it, queued in order, and its demand. Reading it
/// IS the demand: with <see cref="DemandMode.Auto"/> the client asks for <c>MaxDemand − MinDemand</c> more each time that
/// many events have been taken and handled (an event counts as handled when the reader comes back for the next one),
/// so a slow reader slows only its own stream, and what is received and not yet taken never exceeds the credits granted.
/// It outlives connections: after a reconnect or a restart of the hub it subscribes again after the last event taken
/// (with the log's epoch), so nothing is lost and nothing repeated; a group member resumes at its group's position.
/// </summary>
/// <remarks>
/// Threads: messages arrive on SignalR's receive loop; one reader takes them; (re)subscribing is serialised per
/// subscription. All state is under one lock; nothing is sent and no task is completed under it.
/// </remarks>
public sealed class HubSubscription : IAsyncDisposable
{
    private readonly HubClient _client;
    private readonly Lock _gate = new();
    private readonly LinkedList<Item> _queue = new();
    private readonly SemaphoreSlim _establishing = new(1, 1);
    private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private readonly bool _grouped;
    private readonly int _step;
    private TaskCompletionSource? _waiter;
    private Phase _phase = Phase.Pending;
    private int _establishment; // bumped at each Subscribe on the wire, and at close
    private int _heldBelow; // items of earlier establishments wait while a Subscribe is in flight (they may come again)
    private string? _wireId;
    private long? _resumeAfter; // the last event taken from the current log: where a resume starts
    private long? _lastSequence;
    private long? _highWater; // the highest sequence received in this establishment (the duplicate guard)
    private string? _epoch;
    private long _credits; // what the hub may still send: granted (or owed) minus received
    private int _sinceAsk;
    private int _queuedEvents;
    private Item? _inHand; // the event the reader holds: handled once it comes back
    private int _reading;
    private long _overdrafts;
    private long _duplicates;

    internal HubSubscription(HubClient client, SubscribeRequest request)
    {
        _client = client;
        Request = request;
        _grouped = request.Group is not null;
        _ = _first.Task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        _step = request.MaxDemand - request.EffectiveMinDemand;
        _epoch = request.Epoch;
    }

    private enum Phase
    {
        Pending, // no subscription on the hub: before the first Subscribe, or its connection is gone
        Active, // a subscription on the hub, under _wireId
        Ending, // ended by the hub: what is queued is still read, then the HubEnded
        Closed, // over
    }

    /// <summary>The request, as given (a resume replaces <c>after</c> and <c>epoch</c> on the wire).</summary>
    public SubscribeRequest Request { get; }

    /// <summary>The id on the current connection (chosen by the client, new at each resume); null while resuming.</summary>
    public string? Id { get { lock (_gate) { return _phase == Phase.Active ? _wireId : null; } } }

    /// <summary>The sequence of the last event taken (or the end of the last gap); null before any.</summary>
    public long? LastSequence { get { lock (_gate) { return _lastSequence; } } }

    /// <summary>The epoch of the log being read, when the hub names one.</summary>
    public string? Epoch { get { lock (_gate) { return _epoch; } } }

    /// <summary>Credits the hub holds for this subscription, as the client counts them (granted minus received).</summary>
    public long Credits { get { lock (_gate) { return _credits; } } }

    /// <summary>Events received and not yet taken by the reader.</summary>
    public int Queued { get { lock (_gate) { return _queuedEvents; } } }

    /// <summary>True once the subscription is over.</summary>
    public bool IsClosed { get { lock (_gate) { return _phase == Phase.Closed; } } }

    /// <summary>Cancelled when the subscription is disposed (the handler form passes it to the handler).</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>With <see cref="HubClient.SubscribeAsync"/>: completes when its handler loop has stopped.</summary>
    public Task Completion { get; internal set; } = Task.CompletedTask;

    /// <summary>Events received beyond the credits (the hub never sends them; for tests).</summary>
    internal long Overdrafts { get { lock (_gate) { return _overdrafts; } } }

    /// <summary>Events received at or below a sequence already received or the position answered, which the duplicate
    /// guard dropped (the hub never sends them within one subscription; for tests, which would not see them otherwise).</summary>
    internal long Duplicates { get { lock (_gate) { return _duplicates; } } }

    /// <summary>Completes once the hub has answered the first <c>Subscribe</c>; fails if it refused it.</summary>
    internal Task Subscribed => _first.Task;

    /// <summary>Manual demand: grants <paramref name="n"/> more credits (in a group, it also acknowledges the
    /// <paramref name="n"/> oldest events in flight). While resuming, the grant is kept and asked of the new subscription.</summary>
    public void Ask(int n)
    {
        if (Request.Demand != DemandMode.Manual)
        {
            throw new InvalidOperationException("Ask: only with DemandMode.Manual (automatic demand asks by itself).");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        string? id;
        lock (_gate)
        {
            if (_phase is Phase.Ending or Phase.Closed)
            {
                return;
            }

            _credits += n;
            id = _phase == Phase.Active ? _wireId : null;
        }

        if (id is not null)
        {
            _client.SendAsk(id, n);
        }
    }

    /// <summary>The events, in order, as the reader takes them. A gap or a reset is skipped (use
    /// <see cref="ReadMessagesAsync"/> to see them); the end of the subscription by the hub throws
    /// <see cref="HubSubscriptionEndedException"/>; disposing it ends the enumeration.</summary>
    public async IAsyncEnumerable<HubEvent> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var message in ReadMessagesAsync(cancellationToken).ConfigureAwait(false))
        {
            if (message is HubEvent e)
            {
                yield return e;
            }
            else if (message is HubEnded ended)
            {
                throw new HubSubscriptionEndedException(ended);
            }
        }
    }

    /// <summary>Everything, in order: events, gaps, resets and, last, the end. One reader at a time.</summary>
    public async IAsyncEnumerable<HubMessage> ReadMessagesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _reading, 1) != 0)
        {
            throw new InvalidOperationException("A subscription has one reader at a time.");
        }

        try
        {
            while (await TakeAsync(cancellationToken).ConfigureAwait(false) is { } message)
            {
                yield return message;
            }
        }
        finally
        {
            Volatile.Write(ref _reading, 0);
        }
    }

    /// <summary>Ends the subscription, here and on the hub. What is queued is dropped; no <see cref="HubEnded"/> follows.</summary>
    public async ValueTask DisposeAsync()
    {
        string? id;
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            if (_phase == Phase.Closed)
            {
                return;
            }

            id = _phase == Phase.Active ? _wireId : null;
            waiter = CloseLocked();
        }

        waiter?.TrySetResult();
        _first.TrySetException(new ObjectDisposedException(nameof(HubSubscription)));
        await _stopping.CancelAsync().ConfigureAwait(false);
        _client.Forget(this, id);
        if (id is not null)
        {
            await _client.UnsubscribeAsync(id).ConfigureAwait(false);
        }
    }

    /// <summary>The client stopped: over, without telling the hub (the connection is going).</summary>
    internal void Close()
    {
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            if (_phase == Phase.Closed)
            {
                return;
            }

            waiter = CloseLocked();
        }

        waiter?.TrySetResult();
        _first.TrySetException(new ObjectDisposedException(nameof(HubClient)));
        _stopping.Cancel();
    }

    /// <summary>The connection is gone, and the hub forgot the subscription: no more asks; reading what came goes on.</summary>
    internal void Detach()
    {
        lock (_gate)
        {
            if (_phase == Phase.Active)
            {
                _phase = Phase.Pending;
                _wireId = null;
            }
        }
    }

    /// <summary>
    /// Subscribes on the connection of <paramref name="generation"/>: after the last event taken (a group member: at its
    /// group's position) with the log's epoch. A log that was reset is read again from its start, after a
    /// <see cref="HubReset"/>; a refusal ends the subscription (or fails the first <c>Subscribe</c>).
    /// </summary>
    internal async Task EstablishAsync(int generation)
    {
        await _establishing.WaitAsync().ConfigureAwait(false);
        try
        {
            for (var resets = 0; ; resets++)
            {
                int establishment;
                string wireId;
                long? after;
                string? epoch;
                lock (_gate)
                {
                    if (_phase is not Phase.Pending || generation != _client.Generation)
                    {
                        return;
                    }

                    establishment = ++_establishment;
                    _heldBelow = establishment;
                    after = _grouped ? Request.After : _resumeAfter ?? Request.After;
                    epoch = _epoch;
                    _wireId = wireId = _client.NextWireId();
                    _phase = Phase.Active;
                    _highWater = _grouped ? null : after;
                    _sinceAsk = 0;
                    if (Request.Demand == DemandMode.Auto)
                    {
                        _credits = Request.MaxDemand;
                    }

                    _client.Route(wireId, this, establishment);
                    AssertInvariants();
                }

                SubscribeAnswer answer;
                try
                {
                    answer = await _client.InvokeSubscribeAsync(WireSubscribeRequest.From(Request, wireId, after, epoch)).ConfigureAwait(false);
                }
                catch (HubException ex)
                {
                    if (OnRefused(establishment, wireId, ex, after, epoch, canReset: resets == 0))
                    {
                        continue;
                    }

                    return;
                }
                catch (Exception ex)
                {
                    // The connection dropped meanwhile (or is not there): the next connection subscribes again.
                    _client.Unroute(wireId);
                    TaskCompletionSource? released;
                    lock (_gate)
                    {
                        if (establishment == _establishment && _phase == Phase.Active)
                        {
                            _phase = Phase.Pending;
                            _wireId = null;
                        }

                        released = ReleaseHeldLocked();
                    }

                    released?.TrySetResult();
                    HubClient.Log.SubscribeInterrupted(_client.Logger, ex.GetType().Name);
                    return;
                }

                long owed = 0;
                TaskCompletionSource? waiter;
                lock (_gate)
                {
                    if (establishment != _establishment)
                    {
                        return; // disposed meanwhile: DisposeAsync unsubscribed it
                    }

                    _epoch = answer.Epoch ?? _epoch;
                    // The stream starts after the answer's position: a resume before any event was taken starts there.
                    _resumeAfter ??= _grouped ? null : answer.Position;
                    if (!_grouped)
                    {
                        // Nothing at or below the answered position belongs to this stream (the hub's, not the after asked for).
                        _highWater = Math.Max(_highWater ?? answer.Position, answer.Position);
                    }

                    waiter = SupersedeLocked(establishment);
                    if (Request.Demand == DemandMode.Manual && _phase == Phase.Active && _credits > 0)
                    {
                        owed = _credits;
                    }
                }

                waiter?.TrySetResult();
                if (owed > 0)
                {
                    _client.SendAsk(wireId, owed);
                }

                _first.TrySetResult();
                return;
            }
        }
        finally
        {
            _establishing.Release();
        }
    }

    /// <summary>The hub refused a <c>Subscribe</c>. Answers true to subscribe again (the log was reset).</summary>
    private bool OnRefused(int establishment, string wireId, HubException ex, long? after, string? epoch, bool canReset)
    {
        _client.Unroute(wireId);
        var message = HubErrors.Clean(ex.Message);
        var reset = canReset && HubErrors.IsReset(message);
        var first = !_first.Task.IsCompleted;
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            if (establishment != _establishment)
            {
                return false;
            }

            // What was read before is kept: it came from the hub and will not come again.
            foreach (var item in _queue)
            {
                item.Kept = true;
            }

            _wireId = null;
            if (reset)
            {
                _phase = Phase.Pending;
                _resumeAfter = 0; // from the start of the new log
                _epoch = null;
                Enqueue(new HubReset(epoch, after, message), establishment, kept: true);
            }
            else if (first)
            {
                _phase = Phase.Closed;
            }
            else
            {
                _phase = Phase.Ending;
                Enqueue(new HubEnded("rejected", message), establishment, kept: true);
            }

            _heldBelow = 0;
            waiter = TakeWaiterLocked();
        }

        waiter?.TrySetResult();
        if (reset)
        {
            HubClient.Log.SubscriptionReset(_client.Logger, string.Join(",", Request.Topics), message);
            return true;
        }

        HubClient.Log.SubscriptionRefused(_client.Logger, string.Join(",", Request.Topics), message);
        _client.Forget(this, null);
        if (first)
        {
            _first.TrySetException(ex);
        }

        return false;
    }

    internal void OnEvents(int establishment, HubEvent[] batch)
    {
        long ask = 0;
        string? id;
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            if (establishment != _establishment || _phase != Phase.Active)
            {
                return;
            }

            waiter = SupersedeLocked(establishment);
            var skipped = 0;
            foreach (var e in batch)
            {
                if (_credits <= 0)
                {
                    _overdrafts++;
                }

                _credits--;
                if (!_grouped && _highWater is { } high && e.Sequence <= high)
                {
                    skipped++;
                    continue;
                }

                _highWater = e.Sequence;
                Enqueue(e, establishment, kept: false);
            }

            // A duplicate used a credit without reaching the reader: give it back, so the window keeps its size.
            if (skipped > 0)
            {
                _duplicates += skipped;
                if (Request.Demand == DemandMode.Manual)
                {
                    _credits += skipped;
                    ask = skipped;
                }
                else
                {
                    ask = DemandLocked(skipped);
                }
            }

            id = _wireId;
            waiter ??= TakeWaiterLocked();
            AssertInvariants();
        }

        waiter?.TrySetResult();
        if (ask > 0)
        {
            _client.SendAsk(id!, ask);
        }
    }

    internal void OnGap(int establishment, HubGap gap)
    {
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            if (establishment != _establishment || _phase != Phase.Active)
            {
                return;
            }

            waiter = SupersedeLocked(establishment);
            Enqueue(gap, establishment, kept: false);
            waiter ??= TakeWaiterLocked();
        }

        waiter?.TrySetResult();
    }

    internal void OnEnded(int establishment, HubEnded ended)
    {
        TaskCompletionSource? waiter = null;
        lock (_gate)
        {
            if (establishment != _establishment || _phase != Phase.Active)
            {
                return;
            }

            _wireId = null;
            if (ended.Reason == HubErrors.ShutdownReason)
            {
                // The hub is stopping and closes the connection next; the next connection resumes this subscription.
                _phase = Phase.Pending;
            }
            else
            {
                _phase = Phase.Ending;
                foreach (var item in _queue)
                {
                    item.Kept = true;
                }

                Enqueue(ended, establishment, kept: true);
                waiter = TakeWaiterLocked();
            }
        }

        if (ended.Reason != HubErrors.ShutdownReason)
        {
            _client.Forget(this, null);
        }

        waiter?.TrySetResult();
    }

    /// <summary>Takes the next message, counting the one before as handled (which may ask for more); null when over.</summary>
    private async ValueTask<HubMessage?> TakeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            long ask = 0;
            string? askId = null;
            HubMessage? taken = null;
            var over = false;
            Task? wait = null;
            lock (_gate)
            {
                if (_inHand is { } handled)
                {
                    _inHand = null;
                    if (!handled.Kept && handled.Establishment == _establishment && _phase == Phase.Active)
                    {
                        ask = DemandLocked(1);
                        askId = _wireId;
                    }
                }

                if (_queue.First is { } node && (node.Value.Kept || node.Value.Establishment >= _heldBelow))
                {
                    var item = node.Value;
                    _queue.RemoveFirst();
                    taken = item.Message;
                    switch (item.Message)
                    {
                        case HubEvent e:
                            _queuedEvents--;
                            _lastSequence = e.Sequence;
                            if (!item.Kept)
                            {
                                _resumeAfter = e.Sequence; // a kept event may be from a log since reset
                            }

                            _inHand = item;
                            break;
                        case HubGap gap:
                            _lastSequence = Math.Max(_lastSequence ?? gap.To, gap.To);
                            if (!item.Kept)
                            {
                                _resumeAfter = Math.Max(_resumeAfter ?? gap.To, gap.To);
                            }

                            break;
                        case HubReset:
                            _lastSequence = null;
                            break;
                        case HubEnded:
                            _phase = Phase.Closed;
                            break;
                    }
                }
                else if (_phase == Phase.Closed && _queue.Count == 0)
                {
                    over = true;
                }
                else
                {
                    _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    wait = _waiter.Task;
                }

                AssertInvariants();
            }

            if (ask > 0)
            {
                _client.SendAsk(askId!, ask);
            }

            if (taken is not null)
            {
                return taken;
            }

            if (over)
            {
                return null;
            }

            await wait!.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Automatic demand: after <c>MaxDemand − MinDemand</c> handled, ask for that many again.</summary>
    private long DemandLocked(int count)
    {
        if (Request.Demand != DemandMode.Auto || _phase != Phase.Active)
        {
            return 0;
        }

        long ask = 0;
        _sinceAsk += count;
        while (_sinceAsk >= _step)
        {
            _sinceAsk -= _step;
            _credits += _step;
            ask += _step;
        }

        return ask;
    }

    /// <summary>The Subscribe of <paramref name="establishment"/> succeeded: what earlier ones queued and the reader has
    /// not taken comes again from the new one (it starts after the last event taken), so it is dropped; with manual
    /// demand its credits are owed again.</summary>
    private TaskCompletionSource? SupersedeLocked(int establishment)
    {
        if (_heldBelow != establishment)
        {
            return null;
        }

        var node = _queue.First;
        while (node is not null)
        {
            var next = node.Next;
            if (!node.Value.Kept && node.Value.Establishment < establishment)
            {
                if (node.Value.Message is HubEvent)
                {
                    _queuedEvents--;
                    if (Request.Demand == DemandMode.Manual)
                    {
                        _credits++;
                    }
                }

                _queue.Remove(node);
            }

            node = next;
        }

        _heldBelow = 0;
        return TakeWaiterLocked();
    }

    private TaskCompletionSource? ReleaseHeldLocked()
    {
        _heldBelow = 0;
        return TakeWaiterLocked();
    }

    private TaskCompletionSource? CloseLocked()
    {
        _phase = Phase.Closed;
        _establishment++;
        _wireId = null;
        _queue.Clear();
        _queuedEvents = 0;
        _inHand = null;
        return TakeWaiterLocked();
    }

    private void Enqueue(HubMessage message, int establishment, bool kept)
    {
        _queue.AddLast(new Item(message, establishment) { Kept = kept });
        if (message is HubEvent)
        {
            _queuedEvents++;
        }
    }

    private TaskCompletionSource? TakeWaiterLocked()
    {
        var waiter = _waiter;
        _waiter = null;
        return waiter;
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_queuedEvents >= 0, "queued events never negative");
        Debug.Assert(_queuedEvents == _queue.Count(i => i.Message is HubEvent), "the count of queued events is the queue's");
        Debug.Assert(_phase != Phase.Active || _wireId is not null, "an active subscription has an id");
        if (Request.Demand == DemandMode.Auto && _phase == Phase.Active && _overdrafts == 0)
        {
            // The window: what the hub may send, what waits here and what the reader holds, plus what was handled since
            // the last ask, is exactly MaxDemand (never more is received than granted).
            var current = _queue.Count(i => i.Message is HubEvent && !i.Kept && i.Establishment == _establishment);
            var inHand = _inHand is { Kept: false } held && held.Establishment == _establishment ? 1 : 0;
            Debug.Assert(_credits + current + inHand + _sinceAsk == Request.MaxDemand, "automatic demand: the window adds up to MaxDemand");
        }
    }

    /// <summary>A queued message, from the Subscribe of <see cref="Establishment"/>; a kept one is read whatever follows.</summary>
    private sealed class Item(HubMessage message, int establishment)
    {
        public HubMessage Message { get; } = message;

        public int Establishment { get; } = establishment;

        public bool Kept { get; set; }
    }
}
