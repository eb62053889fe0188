using Hub.Stages;
using Hub.Stages.Subscriptions;

namespace Hub.Benchmarks;

/// <summary>A consumer that counts what it receives and signals once it has received its target.</summary>
internal sealed class CountingConsumer(Action onTargetReached) : Consumer<long>("counting")
{
    private long _received;
    private long _target;
    private bool _signalled = true;

    /// <summary>Raises the target by <paramref name="count"/>; called before the producer is released.</summary>
    public void Expect(long count)
    {
        Volatile.Write(ref _target, Volatile.Read(ref _target) + count);
        Volatile.Write(ref _signalled, false);
    }

    protected override ValueTask HandleEventsAsync(ReadOnlyMemory<long> events, Subscription<long> from)
    {
        _received += events.Length;
        if (!_signalled && _received >= Volatile.Read(ref _target))
        {
            _signalled = true;
            onTargetReached();
        }

        return ValueTask.CompletedTask;
    }
}
