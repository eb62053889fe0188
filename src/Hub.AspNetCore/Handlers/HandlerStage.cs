using System.Diagnostics;
using Hub.Log;
using Hub.Server.Subscriptions;
using Hub.Stages;
using Hub.Stages.Dispatchers;
using Microsoft.Extensions.Logging;

namespace Hub.Server.Handlers;

/// <summary>
/// An in-process handler's end of its stage. The stage is a <see cref="Subscription"/> like any subscriber's (the same
/// cursor, demand window and pump over the shared log); this is the channel it writes to. Each <c>events</c> batch is
/// cut into batches of at most <c>MaxDemand - MinDemand</c> events (GenStage's consumer batches) and emitted into a small
/// Hub.Stages pipeline: a producer of batches, and a <see cref="ConsumerSupervisor{T}"/> that starts one child per batch,
/// which calls <see cref="IEventHandler.HandleAsync"/>, with at most <c>MaxConcurrency</c> children at once (its
/// <c>maxDemand</c>). Credits go back to the stage as batches complete (GenStage's automatic demand: <c>MaxDemand</c> at
/// first, <c>MaxDemand - MinDemand</c> more each time that many have been handled), so what is handed and not handled
/// never exceeds <c>MaxDemand</c>.
/// </summary>
/// <remarks>
/// <para>Handing a batch over never waits on the handler: a slow handler holds only its own credits, so its stage stops
/// reading, and nothing else (the log is its backlog).</para>
/// <para>Order: with <c>MaxConcurrency</c> 1, batches run one after another in sequence order (the producer's
/// <see cref="DemandDispatcher{T}"/> serves its one subscriber in order). With <c>OrderByKey</c>, a batch is cut further by
/// partition (<see cref="KeyHash"/>, the rule groups partition by), the producer's <see cref="PartitionDispatcher{T}"/>
/// routes each part to its partition, and the supervisor subscribes once per partition with <c>maxDemand</c> 1: one child
/// per partition at a time, so events of one key run in order and never at once; without it, batches run in any order.</para>
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
    private readonly int _partitions; // MaxConcurrency with OrderByKey, else 1 (no partitioning)
    private readonly Producer<Work> _work;
    private readonly ConsumerSupervisor<Work> _workers;
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
        _partitions = options.OrderByKey && options.MaxConcurrency > 1 ? options.MaxConcurrency : 1;

        // The batches waiting for a child: unbounded, as the stage's credits bound them (at most MaxDemand events).
        IDispatcher<Work> dispatcher = _partitions > 1 ? new PartitionDispatcher<Work>(_partitions, static w => w.Partition) : new DemandDispatcher<Work>();
        _work = StageFactory.CreateProducer<Work>(static _ => ReadOnlyMemory<Work>.Empty, dispatcher, new ProducerOptions { BufferSize = ProducerOptions.Unbounded }, $"handler {name}'s batches");

        // The children's end is this stage's to decide (StopAsync lets running calls finish until the host's deadline),
        // so the supervisor waits for them as long as it takes.
        _workers = new ConsumerSupervisor<Work>(StartChild, new ConsumerSupervisorOptions { ShutdownTimeout = Timeout.InfiniteTimeSpan, TimeProvider = time }, $"handler {name}'s calls");
        _work.Diagnostic += OnDiagnostic;
        _workers.Diagnostic += OnDiagnostic;
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

    /// <summary>Events handed to the handler's calls and not yet completed (handled or dead-lettered).</summary>
    public int InFlight
    {
        get
        {
            lock (_gate)
            {
                return _inFlight;
            }
        }
    }

    /// <summary>Events handled (the handler completed a call holding them).</summary>
    public long Handled => Volatile.Read(ref _handled);

    /// <summary>Calls of the handler that threw.</summary>
    public long Failures => Volatile.Read(ref _failures);

    /// <summary>Events given up on after their attempts (dead-lettered, or only logged without <c>DeadLetter</c>).</summary>
    public long DeadLettered => Volatile.Read(ref _deadLettered);

    /// <summary>Subscribes the supervisor to the batches (once per partition with <c>OrderByKey</c>), then starts the stage's pump.</summary>
    public async Task StartAsync(Subscription stage)
    {
        _stage = stage;
        if (_partitions > 1)
        {
            for (var partition = 0; partition < _partitions; partition++)
            {
                await _workers.SubscribeAsync(_work, new() { Partition = partition, MaxDemand = 1, MinDemand = 0 }).ConfigureAwait(false);
            }
        }
        else
        {
            await _workers.SubscribeAsync(_work, new() { MaxDemand = _options.MaxConcurrency, MinDemand = 0 }).ConfigureAwait(false);
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
            // Completes once every running call has ended (the supervisor waits for its children).
            await ((Task)_workers.Completion).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
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
            if (_partitions == 1)
            {
                var events = new HubEvent[count];
                for (var i = 0; i < count; i++)
                {
                    events[i] = new HubEvent(batch[start + i]);
                }

                work.Add(new Work(0, events));
                continue;
            }

            var byPartition = new List<HubEvent>?[_partitions];
            for (var i = start; i < start + count; i++)
            {
                var entry = batch[i];
                (byPartition[KeyHash.Partition(entry.Key, entry.Sequence, _partitions)] ??= []).Add(new HubEvent(entry));
            }

            for (var partition = 0; partition < byPartition.Length; partition++)
            {
                if (byPartition[partition] is { } events)
                {
                    work.Add(new Work(partition, events));
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

        // Queued on the producer's turn, in order. Refused only once closing, when what is not handled stays after the
        // saved position (the failure is observed, not thrown).
        var emitted = _work.EmitAsync(work.ToArray());
        if (!emitted.IsCompletedSuccessfully)
        {
            _ = emitted.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
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

    /// <summary>No batch starts any more: the pipeline stops (the running calls go on to their end).</summary>
    private void Close()
    {
        if (Interlocked.Exchange(ref _closing, 1) == 0)
        {
            _work.Stop();
            _workers.Stop();
        }
    }

    /// <summary>The supervisor's child template, on its turn: runs the handler's calls for one batch on the thread pool (the
    /// handler may block), or declines once closing.</summary>
    private Task? StartChild(Work work, CancellationToken supervisorStopping) =>
        Volatile.Read(ref _closing) != 0 ? null : Task.Run(() => RunAsync(work));

    /// <summary>One child: the batch's calls, then its completion. Never faults: a fault of this stage (not of the handler,
    /// whose failures are retried and dead-lettered) is logged and ends the stage.</summary>
    private async Task RunAsync(Work work)
    {
        var token = _stopping.Token;
        try
        {
            await HandleAsync(work.Events, token).ConfigureAwait(false);
            Complete(work);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopping: what did not complete stays after the saved position, and is handled after the restart.
        }
        catch (Exception ex)
        {
            // Its position stays where it is; the events after it are handled again after a restart.
            Log.WorkerFailed(_logger, ex, Name);
            _stage?.End("error", notify: true);
            Close();
        }
    }

    private void OnDiagnostic(StageDiagnostic diagnostic) => Log.PipelineDiagnostic(_logger, Name, diagnostic.Kind, diagnostic.Message);

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

    /// <summary>A batch for one child: events in sequence order, all of one partition (0 without <c>OrderByKey</c>).</summary>
    private sealed record Work(int Partition, IReadOnlyList<HubEvent> Events)
    {
        public long First => Events[0].Sequence;
    }
}
