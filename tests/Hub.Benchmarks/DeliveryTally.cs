namespace Hub.Benchmarks;

/// <summary>
/// Counts the events that several consumers receive between them (one interlocked add per batch) and completes a
/// task once the count reaches the target set for the current invocation.
/// </summary>
internal sealed class DeliveryTally
{
    private long _received;
    private long _target = long.MaxValue;
    private TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Events received so far, in all.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Raises the target by <paramref name="count"/> and returns the task that completes when it is reached.</summary>
    public Task Expect(long count)
    {
        _reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long target = (_target == long.MaxValue ? 0 : _target) + count;
        Volatile.Write(ref _target, target);
        if (Received >= target)
        {
            _reached.TrySetResult();
        }

        return _reached.Task;
    }

    /// <summary>Adds one batch's events.</summary>
    public void Add(int count)
    {
        if (Interlocked.Add(ref _received, count) >= Volatile.Read(ref _target))
        {
            _reached.TrySetResult();
        }
    }
}
