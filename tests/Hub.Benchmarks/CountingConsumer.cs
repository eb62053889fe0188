using Hub.Stages;
using Hub.Stages.Subscriptions;

namespace Hub.Benchmarks;

/// <summary>
/// A consumer that counts what it receives and signals once it has received its target. Events the dispatcher
/// skipped past it (a gap: it lagged by more than the retention) count toward the target too, so the benchmark
/// cannot hang; <see cref="Skipped"/> says whether that happened.
/// </summary>
internal sealed class CountingConsumer(Action onTargetReached) : Consumer<long>("counting")
{
    private long _received;
    private long _skipped;
    private long _target;
    private bool _signalled = true;

    /// <summary>Raises the target by <paramref name="count"/>; called before the producer is released.</summary>
    public void Expect(long count)
    {
        Volatile.Write(ref _target, Volatile.Read(ref _target) + count);
        Volatile.Write(ref _signalled, false);
    }

    /// <summary>The target so far.</summary>
    public long Expected => Volatile.Read(ref _target);

    /// <summary>The subscription, once made.</summary>
    public Subscription<long>? Subscription { get; private set; }

    /// <summary>A description of the consumer's progress, for a failure message.</summary>
    public string Progress => $"received {Volatile.Read(ref _received)} of {Volatile.Read(ref _target)}, skipped {Skipped}, outstanding {Subscription?.OutstandingDemand}";

    /// <summary>Events received (and skipped in gaps) so far.</summary>
    public long Received => Volatile.Read(ref _received);

    /// <summary>Events skipped past this consumer in gaps.</summary>
    public long Skipped => Volatile.Read(ref _skipped);

    protected override ValueTask HandleEventsAsync(ReadOnlyMemory<long> events, Subscription<long> from)
    {
        _received += events.Length;
        CheckTarget();
        return ValueTask.CompletedTask;
    }

    protected override ValueTask HandleSubscribeAsync(Subscription<long> subscription)
    {
        Subscription = subscription;
        return ValueTask.CompletedTask;
    }

    protected override ValueTask HandleGapAsync(Subscription<long> subscription, long fromSequence, long toSequence)
    {
        Volatile.Write(ref _skipped, _skipped + (toSequence - fromSequence));
        _received += toSequence - fromSequence;
        CheckTarget();
        return ValueTask.CompletedTask;
    }

    private void CheckTarget()
    {
        if (!_signalled && _received >= Volatile.Read(ref _target))
        {
            _signalled = true;
            onTargetReached();
        }
    }
}
