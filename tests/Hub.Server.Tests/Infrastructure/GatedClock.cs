namespace Hub.Server.Tests.Infrastructure;

/// <summary>
/// The system clock, with a gate a test can close: the next caller of <see cref="GetUtcNow"/> after <see cref="Park"/>
/// waits there (so the SQLite log's writer, which reads the clock as it starts a group commit, is held with what it took,
/// while more appends queue), until the test lets it go on (<see cref="Release"/>) or makes it throw (<see cref="Throw"/>),
/// as a bug in the writer would.
/// </summary>
public sealed class GatedClock : TimeProvider
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly Lock _gate = new();
    private TaskCompletionSource? _parked;
    private TaskCompletionSource<Exception?>? _outcome;

    /// <summary>Completes when a caller is held at the gate.</summary>
    public Task Parked => _parked?.Task ?? throw new InvalidOperationException("Park() first");

    /// <summary>Closes the gate for the next caller.</summary>
    public void Park()
    {
        lock (_gate)
        {
            _parked = new(TaskCreationOptions.RunContinuationsAsynchronously);
            _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>Lets the held caller go on with the time.</summary>
    public void Release() => _outcome!.TrySetResult(null);

    /// <summary>Makes the held caller throw <paramref name="exception"/>.</summary>
    public void Throw(Exception exception) => _outcome!.TrySetResult(exception);

    public override DateTimeOffset GetUtcNow()
    {
        TaskCompletionSource<Exception?>? outcome;
        TaskCompletionSource? parked;
        lock (_gate)
        {
            outcome = _outcome;
            parked = _parked;
            if (parked is null || parked.Task.IsCompleted)
            {
                outcome = null; // open, or another caller holds the gate
            }
        }

        if (outcome is not null && parked!.TrySetResult())
        {
            if (!outcome.Task.Wait(Patience))
            {
                throw new TimeoutException("the test did not release the clock");
            }

            if (outcome.Task.Result is { } exception)
            {
                throw exception;
            }
        }

        return base.GetUtcNow();
    }
}
