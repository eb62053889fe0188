namespace Hub.Server.Subscriptions;

/// <summary>
/// An auto-reset signal for one waiter: <see cref="Set"/> wakes the pending <see cref="WaitAsync"/>, or lets the next
/// one pass at once. Setting twice before a wait counts once. No thread and no timer: a waiting stage costs one task.
/// </summary>
internal sealed class AsyncSignal
{
    private readonly Lock _gate = new();
    private TaskCompletionSource? _waiter;
    private bool _set;

    /// <summary>Wakes the waiter, or remembers the signal for the next wait.</summary>
    public void Set()
    {
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            waiter = _waiter;
            _waiter = null;
            _set = waiter is null;
        }

        // Completed outside the lock; continuations run asynchronously, never on the caller's stack.
        waiter?.TrySetResult();
    }

    /// <summary>Completes when the signal is set (at once if it already is), and resets it.</summary>
    public Task WaitAsync()
    {
        lock (_gate)
        {
            if (_set)
            {
                _set = false;
                return Task.CompletedTask;
            }

            _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _waiter.Task;
        }
    }
}
