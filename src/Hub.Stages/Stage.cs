using System.Collections.Concurrent;
using Hub.Stages.Runtime;

namespace Hub.Stages;

/// <summary>
/// The base of every stage: an actor with a mailbox, run on the thread pool only while messages are waiting (no
/// thread per stage). Messages are handled one at a time, in order; an asynchronous callback is awaited before the
/// next message is taken.
/// </summary>
/// <remarks>
/// Derive from <see cref="Producer{T}"/>, <see cref="Consumer{T}"/> or <see cref="ProducerConsumer{TIn, TOut}"/>.
/// A callback that throws stops the stage with <see cref="StageExitReason.Error"/>; its subscriptions end with that
/// reason on the other side.
/// </remarks>
public abstract class Stage : IThreadPoolWorkItem
{
    // How many messages one turn on the thread pool handles before yielding to other stages.
    private const int Throughput = 64;

    private readonly ConcurrentQueue<StageMessage> _mailbox = new();
    private readonly TaskCompletionSource<StageExitReason> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _scheduled;
    private volatile bool _stopped;

    private protected Stage(string? name)
    {
        Name = name ?? GetType().Name;
    }

    /// <summary>Raised, on the stage's turn, for buffer overflows and protocol errors (the library does not log).</summary>
    public event Action<StageDiagnostic>? Diagnostic;

    /// <summary>A name for diagnostics.</summary>
    public string Name { get; }

    /// <summary>Completes with the reason once the stage has stopped.</summary>
    public Task<StageExitReason> Completion => _completion.Task;

    /// <summary>Whether the stage is still running.</summary>
    public bool IsRunning => !_stopped;

    /// <summary>Asks the stage to stop after the messages already in its mailbox.</summary>
    public void Stop(StageExitReason? reason = null) => Post(new StopMessage(this, reason ?? StageExitReason.Normal));

    /// <summary>
    /// Runs <paramref name="action"/> on the stage's turn, after the messages already in its mailbox (GenStage's
    /// <c>call</c>); a producer's action may emit events. Fails with <see cref="InvalidOperationException"/> when
    /// the stage has stopped.
    /// </summary>
    public Task InvokeAsync(Func<ValueTask> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        var message = new InvokeMessage(this, action);
        Post(message);
        return message.Task;
    }

    /// <summary>Runs <paramref name="action"/> on the stage's turn; see <see cref="InvokeAsync(Func{ValueTask})"/>.</summary>
    public Task InvokeAsync(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        return InvokeAsync(() =>
        {
            action();
            return ValueTask.CompletedTask;
        });
    }

    /// <inheritdoc/>
    public override string ToString() => Name;

    internal void Post(StageMessage message)
    {
        _mailbox.Enqueue(message);
        if (Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    internal void Report(StageDiagnostic diagnostic) => Diagnostic?.Invoke(diagnostic);

    /// <summary>Stops the stage at once; called on the stage's turn.</summary>
    internal void StopNow(StageExitReason reason)
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        OnStopped(reason);
        Task settling = WhenStoppedAsync();
        if (settling.IsCompleted)
        {
            _completion.TrySetResult(reason);
        }
        else
        {
            _ = CompleteAfterAsync(settling, reason);
        }
    }

    /// <summary>Ends the stage's subscriptions on both sides; called once, on the stage's turn.</summary>
    private protected abstract void OnStopped(StageExitReason reason);

    /// <summary>
    /// What <see cref="Completion"/> waits for after <see cref="OnStopped"/> (a supervisor's children winding down);
    /// called once, on the stage's turn. Its failure is ignored.
    /// </summary>
    private protected virtual Task WhenStoppedAsync() => Task.CompletedTask;

    /// <summary>Runs after each <see cref="InvokeAsync(Func{ValueTask})"/> action: a producer serves the demand its emits freed.</summary>
    private protected virtual ValueTask AfterInvokeAsync() => ValueTask.CompletedTask;

    internal ValueTask AfterInvokeMessageAsync() => AfterInvokeAsync();

    /// <summary>Handles an internal stop request.</summary>
    private protected virtual ValueTask HandleStopAsync(StageExitReason reason)
    {
        StopNow(reason);
        return ValueTask.CompletedTask;
    }

    internal ValueTask HandleStopMessageAsync(StageExitReason reason) => HandleStopAsync(reason);

    void IThreadPoolWorkItem.Execute() => Drain();

    private void Drain()
    {
        while (true)
        {
            for (int handled = 0; handled < Throughput; handled++)
            {
                if (!_mailbox.TryDequeue(out StageMessage? message))
                {
                    goto Idle;
                }

                ValueTask pending;
                try
                {
                    if (_stopped)
                    {
                        message.DeadLetter();
                        continue;
                    }

                    pending = message.InvokeAsync();
                    if (pending.IsCompletedSuccessfully)
                    {
                        pending.GetAwaiter().GetResult();
                        continue;
                    }
                }
                catch (Exception exception)
                {
                    StopNow(StageExitReason.Error(exception));
                    continue;
                }

                _ = AwaitThenDrainAsync(pending);
                return;
            }

            // Yield the thread to other stages; _scheduled stays 1, so no one else schedules this stage meanwhile.
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            return;

        Idle:
            // A full fence, not a release store: the emptiness check below must not be reordered before this write,
            // or a message posted meanwhile (whose poster saw _scheduled == 1) would wait with no one to run it.
            Interlocked.Exchange(ref _scheduled, 0);
            if (_mailbox.IsEmpty || Interlocked.CompareExchange(ref _scheduled, 1, 0) != 0)
            {
                return;
            }
        }
    }

    private async Task CompleteAfterAsync(Task settling, StageExitReason reason)
    {
        try
        {
            await settling.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The stage has stopped either way; how its last work ended does not change the reason.
        }

        _completion.TrySetResult(reason);
    }

    private async Task AwaitThenDrainAsync(ValueTask pending)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            StopNow(StageExitReason.Error(exception));
        }

        Drain();
    }
}
