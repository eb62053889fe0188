using System.Diagnostics;
using System.Threading.Channels;
using Hub.Log;
using Hub.Server.Subscriptions;
using Microsoft.Extensions.Logging;

namespace Hub.Server.Handlers;

/// <summary>
/// An in-process handler's end of its stage. The stage is a <see cref="Subscription"/> like any subscriber's (the same
/// cursor, demand window and pump over the shared log); this is the channel it writes to. Each <c>events</c> batch is
/// cut into batches of at most <c>MaxDemand - MinDemand</c> events (GenStage's consumer batches) and queued to up to
/// <c>MaxConcurrency</c> workers, which call <see cref="IEventHandler.HandleAsync"/>; credits go back to the stage as
/// batches complete (GenStage's automatic demand: <c>MaxDemand</c> at first, <c>MaxDemand - MinDemand</c> more each time
/// that many have been handled), so what is handed and not handled never exceeds <c>MaxDemand</c>.
/// </summary>
/// <remarks>
/// <para>Handing a batch over never waits on the handler: a slow handler holds only its own credits, so its stage stops
/// reading, and nothing else (the log is its backlog).</para>
/// <para>Order: with one worker, batches run one after another in sequence order. With <c>OrderByKey</c>, each key has one
/// lane (one worker), so events of one key run in order and never at once; without it, batches run in any order.</para>
/// <para>Position: the highest sequence below which every event handed has completed (handled or dead-lettered), saved in
/// the log's store under the handler's own key after each completion that moves it; on restart the handler resumes
/// after it, so events not yet saved are handled again (at least once).</para>
/// <para>Failures: a batch that throws is retried (<c>MaxAttempts</c>, with a doubling delay), then its events are tried one
/// by one, and each that still fails is dead-lettered to <c>hub.deadletter.NAME</c>; the handler goes on.</para>
/// </remarks>
internal sealed partial class HandlerStage : ISubscriberChannel
{
    private readonly HandlerOptions _options;
    private readonly Type _handlerType;
    private readonly IServiceScopeFactory _scopes;
    private readonly IHubPublisher _publisher;
    private readonly IEventLog _log;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly GroupKey _key;
    private readonly string _deadLetterTopic;
    private readonly int _batchSize;
    private readonly bool _keyed;
    private readonly Channel<Work>[] _lanes;
    private readonly Task[] _workers;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly SortedSet<long> _pending = []; // the first sequence of each batch handed and not completed, under _gate
    private readonly Lock _saveGate = new();
    private long _handed;   // the highest sequence handed, under _gate
    private long _position; // every event handed up to it has completed, under _gate
    private long _saved;    // the position last saved, under _saveGate
    private int _toAsk;     // events completed since the last Ask, under _gate
    private int _inFlight;  // events handed and not completed, under _gate
    private long _handled;
    private long _failures;
    private long _deadLettered;
    private int _closing;
    private Subscription? _stage;

    public HandlerStage(string name, Type handlerType, HandlerOptions options, SubscribeRequest request, long position, IServiceScopeFactory scopes, IHubPublisher publisher, IEventLog log, TimeProvider time, ILogger logger)
    {
        Name = name;
        _handlerType = handlerType;
        _options = options;
        _scopes = scopes;
        _publisher = publisher;
        _log = log;
        _time = time;
        _logger = logger;
        _key = HandlerName.PositionKey(name);
        _deadLetterTopic = HandlerOptions.DeadLetterTopic(name);
        _batchSize = Math.Max(1, request.MaxDemand - request.MinDemand);
        _keyed = options.OrderByKey && options.MaxConcurrency > 1;
        _lanes = new Channel<Work>[_keyed ? options.MaxConcurrency : 1];
        for (var i = 0; i < _lanes.Length; i++)
        {
            _lanes[i] = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = _keyed, SingleWriter = true });
        }

        _workers = new Task[options.MaxConcurrency];
        _position = position;
        _handed = position;
        _saved = position;
    }

    /// <summary>The handler's name.</summary>
    public string Name { get; }

    /// <summary>Every event up to this sequence has been handled or dead-lettered (what is saved).</summary>
    public long Position
    {
        get
        {
            lock (_gate)
            {
                return _position;
            }
        }
    }

    /// <summary>Events handled (the handler completed a call holding them).</summary>
    public long Handled => Volatile.Read(ref _handled);

    /// <summary>Calls of the handler that threw.</summary>
    public long Failures => Volatile.Read(ref _failures);

    /// <summary>Events given up on after their attempts (dead-lettered, or only logged without <c>DeadLetter</c>).</summary>
    public long DeadLettered => Volatile.Read(ref _deadLettered);

    /// <summary>Starts the workers, then the stage's pump.</summary>
    public void Start(Subscription stage)
    {
        _stage = stage;
        for (var i = 0; i < _workers.Length; i++)
        {
            var lane = _lanes[_keyed ? i : 0];
            _workers[i] = Task.Run(() => WorkAsync(lane.Reader));
        }

        stage.Start();
    }

    /// <summary>
    /// Stops: the stage ends, no batch starts any more, the running ones finish (or, once <paramref name="cancellationToken"/>
    /// is cancelled, are cancelled and handled again after a restart), and the position is saved.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stage?.End("shutdown", notify: true);
        Close();
        using (cancellationToken.Register(static s => ((CancellationTokenSource)s!).Cancel(), _stopping))
        {
            await Task.WhenAll(_workers.Where(static w => w is not null)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (_stage is { } stage)
            {
                await stage.Completion.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        long position, handed;
        lock (_gate)
        {
            position = _position;
            handed = _handed;
        }

        Save(position, handed);
    }

    /// <inheritdoc />
    public Task SendEventsAsync(string connectionId, string subscriptionId, List<LogEntry> batch, CancellationToken cancellationToken)
    {
        // The stage reuses its list: the events are taken out of it here.
        var work = new List<Work>((batch.Count / _batchSize) + 1);
        for (var start = 0; start < batch.Count; start += _batchSize)
        {
            var count = Math.Min(_batchSize, batch.Count - start);
            if (!_keyed)
            {
                var events = new HubEvent[count];
                for (var i = 0; i < count; i++)
                {
                    events[i] = new HubEvent(batch[start + i]);
                }

                work.Add(new Work(0, events));
                continue;
            }

            var byLane = new List<HubEvent>?[_lanes.Length];
            for (var i = start; i < start + count; i++)
            {
                var entry = batch[i];
                (byLane[LaneOf(entry)] ??= []).Add(new HubEvent(entry));
            }

            for (var lane = 0; lane < byLane.Length; lane++)
            {
                if (byLane[lane] is { } events)
                {
                    work.Add(new Work(lane, events));
                }
            }
        }

        lock (_gate)
        {
            foreach (var item in work)
            {
                _pending.Add(item.First);
            }

            _handed = batch[^1].Sequence;
            _inFlight += batch.Count;
            AssertInvariants();
        }

        foreach (var item in work)
        {
            // Unbounded, and bounded by the credits: at most MaxDemand events wait. Refused only once closing, when what
            // is not handled stays after the saved position.
            _lanes[item.Lane].Writer.TryWrite(item);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task SendGapAsync(string connectionId, string subscriptionId, GapNotice gap, CancellationToken cancellationToken)
    {
        Log.Gap(_logger, Name, gap.From, gap.To, gap.Reason);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task SendEndedAsync(string connectionId, string subscriptionId, EndedNotice ended, CancellationToken cancellationToken)
    {
        if (ended.Reason != "shutdown")
        {
            Log.Ended(_logger, Name, ended.Reason);
        }

        Close();
        return Task.CompletedTask;
    }

    private void Close()
    {
        if (Interlocked.Exchange(ref _closing, 1) == 0)
        {
            foreach (var lane in _lanes)
            {
                lane.Writer.TryComplete();
            }
        }
    }

    /// <summary>A keyed event's lane is its key's partition (the one key hash of the hub, as groups partition by);
    /// an event without a key goes by its sequence.</summary>
    private int LaneOf(LogEntry entry) => entry.Key is { } key
        ? Hub.Stages.Dispatchers.KeyHash.Partition(key, _lanes.Length)
        : (int)(entry.Sequence % _lanes.Length);

    private async Task WorkAsync(ChannelReader<Work> reader)
    {
        var token = _stopping.Token;
        try
        {
            while (Volatile.Read(ref _closing) == 0 && await reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                while (Volatile.Read(ref _closing) == 0 && reader.TryRead(out var work))
                {
                    await HandleAsync(work.Events, token).ConfigureAwait(false);
                    Complete(work);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopping: what did not complete stays after the saved position, and is handled after the restart.
        }
        catch (Exception ex)
        {
            // Not the handler's failure (those are retried and dead-lettered): a fault of this stage. Its position stays
            // where it is; the events after it are handled again after a restart.
            Log.WorkerFailed(_logger, ex, Name);
            _stage?.End("error", notify: true);
        }
    }

    /// <summary>Handles a batch with its retries; then, if it still fails, its events one by one, dead-lettering each that
    /// still fails. Throws only when stopping.</summary>
    private async Task HandleAsync(IReadOnlyList<HubEvent> events, CancellationToken token)
    {
        var (error, attempts) = await TryAsync(events, token).ConfigureAwait(false);
        if (error is null)
        {
            Interlocked.Add(ref _handled, events.Count);
            return;
        }

        if (events.Count == 1)
        {
            await DeadLetterAsync(events[0], error, attempts, token).ConfigureAwait(false);
            return;
        }

        Log.Isolating(_logger, Name, events.Count, events[0].Sequence, events[^1].Sequence);
        foreach (var e in events)
        {
            var (alone, more) = await TryAsync([e], token).ConfigureAwait(false);
            if (alone is null)
            {
                Interlocked.Increment(ref _handled);
            }
            else
            {
                await DeadLetterAsync(e, alone, attempts + more, token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Calls the handler up to <c>MaxAttempts</c> times; answers the last failure (null once it succeeds) and the
    /// attempts made.</summary>
    private async Task<(Exception? Error, int Attempts)> TryAsync(IReadOnlyList<HubEvent> events, CancellationToken token)
    {
        Exception? last = null;
        for (var attempt = 1; attempt <= _options.MaxAttempts; attempt++)
        {
            try
            {
                var scope = _scopes.CreateAsyncScope();
                await using (scope.ConfigureAwait(false))
                {
                    var handler = (IEventHandler)scope.ServiceProvider.GetRequiredService(_handlerType);
                    await handler.HandleAsync(events, token).ConfigureAwait(false);
                }

                return (null, attempt);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                last = ex;
                Interlocked.Increment(ref _failures);
                Log.AttemptFailed(_logger, ex, Name, events.Count, events[0].Sequence, events[^1].Sequence, attempt, _options.MaxAttempts);
                if (attempt < _options.MaxAttempts)
                {
                    await Task.Delay(Backoff(attempt), _time, token).ConfigureAwait(false);
                }
            }
        }

        return (last, _options.MaxAttempts);
    }

    /// <summary>The wait after failed attempt <paramref name="attempt"/>: <c>RetryDelay</c>, doubling, at most <c>MaxRetryDelay</c>.</summary>
    private TimeSpan Backoff(int attempt) =>
        TimeSpan.FromTicks((long)Math.Min(_options.RetryDelay.Ticks * Math.Pow(2, Math.Min(attempt - 1, 30)), _options.MaxRetryDelay.Ticks));

    /// <summary>
    /// Gives up on <paramref name="e"/>: publishes the failure to the dead-letter topic (retrying while the log cannot take
    /// it, as the event is only passed once it is there), or only logs it without <c>DeadLetter</c> or for an event of the
    /// handler's own dead-letter topic (which would otherwise feed itself).
    /// </summary>
    private async Task DeadLetterAsync(HubEvent e, Exception error, int attempts, CancellationToken token)
    {
        var errorType = error.GetType().FullName ?? error.GetType().Name;
        if (!_options.DeadLetter || e.Topic == _deadLetterTopic)
        {
            Log.GaveUp(_logger, error, Name, e.Sequence, e.Topic, attempts);
            Interlocked.Increment(ref _deadLettered);
            return;
        }

        var message = error.Message.Length > DeadLetterEvent.MaxMessageLength ? error.Message[..DeadLetterEvent.MaxMessageLength] : error.Message;
        var letter = new NewEvent(_deadLetterTopic, new DeadLetterEvent(Name, e.Sequence, e.Topic, e.Type, e.Id, e.Key, attempts, errorType, message))
        {
            Type = DeadLetterEvent.EventType,
            Id = e.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Key = e.Key,
        };
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var published = await _publisher.PublishAsync(letter, token).ConfigureAwait(false);
                Interlocked.Increment(ref _deadLettered);
                Log.DeadLettered(_logger, error, Name, e.Sequence, e.Topic, attempts, _deadLetterTopic, published.Sequence);
                return;
            }
            catch (HubPublishException ex)
            {
                // Cannot happen for an event the log holds (its fields were valid); said, never silent.
                Log.GaveUp(_logger, ex, Name, e.Sequence, e.Topic, attempts);
                Interlocked.Increment(ref _deadLettered);
                return;
            }
            catch (Exception ex) when (!token.IsCancellationRequested)
            {
                // The log cannot take it now (unavailable, overloaded): wait and try again.
                Log.DeadLetterWaits(_logger, ex, Name, e.Sequence, attempt);
                await Task.Delay(Backoff(attempt), _time, token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>A batch has completed: moves the position over what is contiguous, saves it, and asks for more.</summary>
    private void Complete(Work work)
    {
        // Read before the gate: the stage writes its cursor after it has handed the batch over (under the gate), so with
        // nothing pending, a cursor read first covers only what was handed and completed.
        var cursor = _stage!.Cursor;
        long save = 0, handed;
        var ask = 0;
        lock (_gate)
        {
            _pending.Remove(work.First);
            _inFlight -= work.Events.Count;
            _toAsk += work.Events.Count;
            var reached = _pending.Count == 0 ? Math.Max(_handed, cursor) : _pending.Min - 1;
            if (reached > _position)
            {
                _position = reached;
                save = reached;
            }

            if (_toAsk >= _batchSize)
            {
                ask = _toAsk;
                _toAsk = 0;
            }

            handed = _handed;
            AssertInvariants();
        }

        if (save > 0)
        {
            Save(save, handed);
        }

        if (ask > 0)
        {
            _stage.Ask(ask);
        }
    }

    private void Save(long position, long handed)
    {
        lock (_saveGate)
        {
            if (position <= _saved)
            {
                return;
            }

            _saved = position;
            if (!_log.SaveGroupPosition(_key, new GroupPosition(position, Math.Max(position, handed))))
            {
                Log.PositionNotSaved(_logger, Name, position);
            }
        }
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_inFlight >= 0, "what is in flight is never negative");
        Debug.Assert(_position <= Math.Max(_handed, _stage?.Cursor ?? _handed), "the position never passes what was handed or scanned");
        Debug.Assert(_pending.Count == 0 || _pending.Min > _position, "the position is below every pending batch");
    }

    /// <summary>A batch for one lane: events in sequence order.</summary>
    private sealed record Work(int Lane, IReadOnlyList<HubEvent> Events)
    {
        public long First => Events[0].Sequence;
    }
}
