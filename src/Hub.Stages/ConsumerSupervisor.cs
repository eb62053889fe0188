using System.Diagnostics;
using Hub.Stages.Runtime;
using Hub.Stages.Subscriptions;

namespace Hub.Stages;

/// <summary>
/// A consumer stage that starts one child per event from a single child template and supervises the children
/// one-for-one (GenStage's <c>ConsumerSupervisor</c>): a pool whose size follows demand.
/// </summary>
/// <remarks>
/// <para>
/// <b>Demand.</b> On subscribing it asks for <c>maxDemand</c>; each event then holds a slot until its child has ended,
/// so <c>maxDemand</c> caps the live children of one subscription. A child that completes, that the template declines
/// (returns <see langword="null"/>) or that fails to start (the template throws) frees its slot; once <c>minDemand</c>
/// or more slots are free the supervisor asks for exactly that many (with <c>minDemand</c> 0, one at a time). So
/// between <c>maxDemand − minDemand</c> and <c>maxDemand</c> children run while events keep coming. Demand is always
/// managed by the supervisor: a <see cref="DemandMode.Manual"/> subscription is rejected.
/// </para>
/// <para>
/// <b>Children.</b> A child is the <see cref="Task"/> the template returns for an event; the template is called on the
/// supervisor's turn and should return at once (start CPU-bound work with <see cref="Task.Run(Func{Task})"/>). A child
/// ends normally when its task completes, or is cancelled because the supervisor is stopping; it ends abnormally when
/// its task faults or is cancelled otherwise (reported as <see cref="StageDiagnosticKind.ChildFailed"/>). With
/// <see cref="ChildRestart.Transient"/> an abnormal end starts the template again with the same event, the slot staying
/// taken; with <see cref="ChildRestart.Temporary"/> (default) it never does. A restart whose template throws is tried
/// again later, the child showing as restarting meanwhile. More than <c>MaxRestarts</c> restarts (of all children)
/// within <c>MaxSeconds</c> stop the supervisor with <see cref="StageExitReason.MaxRestartIntensity"/>.
/// </para>
/// <para>
/// <b>Stopping.</b> Stopping ends the subscriptions and cancels the token every child was given; <see cref="Stage.Completion"/>
/// completes once every child has ended, or after <see cref="ConsumerSupervisorOptions.ShutdownTimeout"/> (a .NET task
/// cannot be killed, so one that ignores its token is left running). When a subscription ends and the supervisor keeps
/// running (a temporary or transient cancel mode), that subscription's children run on to their end.
/// </para>
/// </remarks>
/// <typeparam name="T">The events, one per child.</typeparam>
public sealed class ConsumerSupervisor<T> : Stage, IConsumerHost<T>
{
    private readonly Func<T, CancellationToken, Task?> _template;
    private readonly ConsumerSupervisorOptions _options;
    private readonly ConsumerSide<T> _side;
    private readonly RestartIntensity _restarts;
    private readonly Dictionary<long, SupervisorDemand> _demand = [];
    private readonly Dictionary<long, ChildEntry<T>> _children = [];
    private readonly CancellationTokenSource _stopping = new();
    private long _nextChildId;
    private volatile int _childCount;
    private volatile int _restartingCount;

    /// <summary>Creates a consumer supervisor.</summary>
    /// <param name="child">
    /// The child template: starts the child for one event and returns its task, or <see langword="null"/> to decline
    /// the event (GenStage's <c>:ignore</c>). The token is cancelled when the supervisor stops. A template that throws
    /// has failed to start the child.
    /// </param>
    /// <param name="options">Restart type and limits; default <see cref="ConsumerSupervisorOptions.Default"/>.</param>
    /// <param name="name">A name for diagnostics.</param>
    /// <exception cref="ArgumentException">An option is invalid, e.g. <see cref="ChildRestart.Permanent"/>; the message names it.</exception>
    public ConsumerSupervisor(Func<T, CancellationToken, Task?> child, ConsumerSupervisorOptions? options = null, string? name = null)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(child);
        options ??= ConsumerSupervisorOptions.Default;
        options.Validate();
        _template = child;
        _options = options;
        _side = new ConsumerSide<T>(this, this);
        _restarts = new RestartIntensity(options.MaxRestarts, options.MaxSeconds, options.TimeProvider);
    }

    /// <summary>The options it was made with.</summary>
    public ConsumerSupervisorOptions Options => _options;

    /// <summary>Children holding a slot: running, or waiting for a restart to be tried again (GenStage's <c>specs</c> count).</summary>
    public int ChildCount => _childCount;

    /// <summary>Children running now (GenStage's <c>active</c> count): <see cref="ChildCount"/> less those restarting.</summary>
    public int ActiveChildCount => _childCount - _restartingCount;

    /// <summary>
    /// Subscribes to <paramref name="producer"/>; see <see cref="Consumer{T}.SubscribeAsync"/>. <c>MaxDemand</c> is the
    /// most live children for this subscription, <c>MinDemand</c> the number of freed slots that triggers an ask.
    /// </summary>
    /// <exception cref="ArgumentException">The options are invalid or ask for <see cref="DemandMode.Manual"/> demand.</exception>
    public Task<Subscription<T>> SubscribeAsync(IProducer<T> producer, SubscriptionOptions<T>? options = null)
    {
        if (options?.Demand == DemandMode.Manual)
        {
            throw new ArgumentException($"A consumer supervisor asks for events itself, as its children end: {nameof(SubscriptionOptions<T>.Demand)} must be {nameof(DemandMode.Automatic)}.", nameof(options));
        }

        return _side.SubscribeAsync(producer, options);
    }

    /// <summary>Lists the children (GenStage's <c>which_children</c>), read on the supervisor's turn.</summary>
    /// <exception cref="InvalidOperationException">The supervisor has stopped.</exception>
    public async Task<IReadOnlyList<SupervisedChild<T>>> WhichChildrenAsync()
    {
        SupervisedChild<T>[] children = [];
        await InvokeAsync(() =>
        {
            children = _children.Values.Select(child => new SupervisedChild<T>(child.Item, child.Restarting, child.Restarts)).ToArray();
        }).ConfigureAwait(false);
        return children;
    }

    ValueTask IConsumerHost<T>.HandleSubscribeAsync(Subscription<T> subscription)
    {
        _demand.Add(subscription.Id, new SupervisorDemand(subscription.MaxDemand, subscription.MinDemand));
        return ValueTask.CompletedTask;
    }

    ValueTask IConsumerHost<T>.OnEventsAsync(Subscription<T> from, ReadOnlyMemory<T> events)
    {
        if (!_demand.TryGetValue(from.Id, out SupervisorDemand? demand))
        {
            return ValueTask.CompletedTask;
        }

        long outstanding = from.AddOutstanding(-events.Length);
        if (outstanding < 0)
        {
            from.AddOutstanding(-outstanding);
            Report(new StageDiagnostic(StageDiagnosticKind.ExcessEvents, -outstanding, $"Stage {this} received {-outstanding} events in excess from {from.ProducerStage}."));
        }

        long slots = demand.Outstanding;
        int notStarted = 0;
        ReadOnlySpan<T> items = events.Span;
        for (int i = 0; i < items.Length && IsRunning; i++)
        {
            bool holdsSlot = i < slots;
            if (!StartNew(items[i], from, holdsSlot) && holdsSlot)
            {
                notStarted++;
            }
        }

        AskFor(from, demand.OnEvents(events.Length, notStarted));
        AssertInvariants();
        return ValueTask.CompletedTask;
    }

    ValueTask IConsumerHost<T>.HandleBatchAsync(ReadOnlyMemory<T> batch, Subscription<T> from) =>
        throw new UnreachableException("A consumer supervisor starts children from OnEventsAsync; it never hands batches on.");

    ValueTask IConsumerHost<T>.HandleCancelAsync(Subscription<T> subscription, StageExitReason reason)
    {
        // Its children run on; when they end there is no one to ask.
        _demand.Remove(subscription.Id);
        return ValueTask.CompletedTask;
    }

    ValueTask IConsumerHost<T>.HandleGapAsync(Subscription<T> subscription, long fromSequence, long toSequence) => ValueTask.CompletedTask;

    /// <summary>One attempt of a child has ended; on the supervisor's turn.</summary>
    internal void OnChildExited(ChildEntry<T> child, Task attempt)
    {
        if (!_children.TryGetValue(child.Id, out ChildEntry<T>? current) || current != child || child.Task != attempt)
        {
            return;
        }

        Exception? failure = FailureOf(attempt);
        if (failure is null)
        {
            Remove(child);
            return;
        }

        child.LastFailure = failure;
        Report(new StageDiagnostic(StageDiagnosticKind.ChildFailed, 1, $"Supervisor {this}: the child for {child.Item} ended abnormally: {failure.Message}"));
        if (_options.Restart == ChildRestart.Transient)
        {
            Restart(child);
        }
        else
        {
            Remove(child);
        }
    }

    /// <summary>Tries a pending restart again; on the supervisor's turn.</summary>
    internal void OnRestartAgain(ChildEntry<T> child)
    {
        if (_children.TryGetValue(child.Id, out ChildEntry<T>? current) && current == child && child.Restarting)
        {
            Restart(child);
        }
    }

    private protected override void OnStopped(StageExitReason reason)
    {
        _side.OnStopped(reason);
        _demand.Clear();

        // Asynchronously: the children's cancellation callbacks are user code, not to run on this turn.
        _ = _stopping.CancelAsync();
    }

    private protected override Task WhenStoppedAsync()
    {
        Task[] running = _children.Values.Select(child => child.Task).OfType<Task>().ToArray();
        if (running.Length == 0)
        {
            return Task.CompletedTask;
        }

        return Task.WhenAll(running).WaitAsync(_options.ShutdownTimeout, _options.TimeProvider);
    }

    private static void AskFor(Subscription<T>? subscription, long count)
    {
        if (subscription is not null && count > 0)
        {
            subscription.Ask(count);
        }
    }

    /// <summary>Starts a child for a new event; false when the template declined or threw (no child).</summary>
    private bool StartNew(T item, Subscription<T> from, bool holdsSlot)
    {
        var child = new ChildEntry<T>(++_nextChildId, item, from, holdsSlot);
        if (!TryStart(child, out Exception? error))
        {
            if (error is not null)
            {
                Report(new StageDiagnostic(StageDiagnosticKind.ChildStartFailed, 1, $"Supervisor {this} failed to start the child for {item}: {error.Message}"));
            }

            return false;
        }

        _children.Add(child.Id, child);
        _childCount = _children.Count;
        return true;
    }

    /// <summary>Calls the template; on success the child's task is set and watched.</summary>
    private bool TryStart(ChildEntry<T> child, out Exception? error)
    {
        error = null;
        Task? attempt;
        try
        {
            attempt = _template(child.Item, _stopping.Token);
        }
        catch (Exception exception)
        {
            error = exception;
            return false;
        }

        if (attempt is null)
        {
            return false;
        }

        child.Task = attempt;
        attempt.ContinueWith(
            static (task, state) =>
            {
                var (supervisor, entry) = ((ConsumerSupervisor<T>, ChildEntry<T>))state!;
                supervisor.Post(new ChildExitedMessage<T>(supervisor, entry, task));
            },
            (this, child),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return true;
    }

    private void Restart(ChildEntry<T> child)
    {
        if (!_restarts.TryAdd())
        {
            Remove(child);
            StopNow(StageExitReason.MaxRestartIntensity(child.LastFailure));
            return;
        }

        child.Restarts++;
        bool wasRestarting = child.Restarting;
        if (TryStart(child, out Exception? error))
        {
            if (wasRestarting)
            {
                _restartingCount--;
            }

            AssertInvariants();
            return;
        }

        if (error is null)
        {
            // Declined this time: the child is done (Remove settles the restarting count).
            Remove(child);
            return;
        }

        child.LastFailure = error;
        Report(new StageDiagnostic(StageDiagnosticKind.ChildStartFailed, 1, $"Supervisor {this} failed to restart the child for {child.Item}: {error.Message}"));
        if (!wasRestarting)
        {
            child.Task = null;
            _restartingCount++;
        }

        Post(new ChildRestartMessage<T>(this, child));
        AssertInvariants();
    }

    /// <summary>A child has ended for good: it frees its slot, which may lead to an ask.</summary>
    private void Remove(ChildEntry<T> child)
    {
        if (child.Restarting && _children.ContainsKey(child.Id))
        {
            _restartingCount--;
        }

        _children.Remove(child.Id);
        _childCount = _children.Count;
        if (child.HoldsSlot && child.From is { } from && _demand.TryGetValue(from.Id, out SupervisorDemand? demand))
        {
            AskFor(from, demand.OnChildEnded());
        }

        AssertInvariants();
    }

    private Exception? FailureOf(Task attempt)
    {
        if (attempt.IsCompletedSuccessfully)
        {
            return null;
        }

        if (attempt.IsCanceled)
        {
            return _stopping.IsCancellationRequested ? null : new TaskCanceledException(attempt);
        }

        AggregateException faults = attempt.Exception!;
        return faults.InnerExceptions.Count == 1 ? faults.InnerExceptions[0] : faults;
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_childCount == _children.Count, "the published count matches the children");
        Debug.Assert(_restartingCount == _children.Values.Count(child => child.Restarting), "the restarting count matches the children");
        foreach ((long subscriptionId, SupervisorDemand demand) in _demand)
        {
            long live = _children.Values.Count(child => child.HoldsSlot && child.From?.Id == subscriptionId);
            Debug.Assert(live == demand.Live, "each subscription's live slots are its slot-holding children");
        }
    }
}
