using System.Collections.Concurrent;
using Hub.Stages.Subscriptions;

namespace Hub.Stages.Tests.Support;

/// <summary>A consumer that records its batches, cancellations and gaps; it can block forever after N batches.</summary>
internal sealed class Recorder<T>(string name = "recorder", int blockAfterBatches = int.MaxValue) : Consumer<T>(name)
{
    private readonly TaskCompletionSource _never = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ConcurrentQueue<T[]> Batches { get; } = new();

    public ConcurrentQueue<(long Id, StageExitReason Reason)> Cancels { get; } = new();

    public ConcurrentQueue<(long From, long To)> Gaps { get; } = new();

    public int EventCount => Batches.Sum(batch => batch.Length);

    public T[] Events => Batches.SelectMany(batch => batch).ToArray();

    public T[][] Snapshot => Batches.ToArray();

    /// <summary>Releases a consumer blocked forever (so the test can end cleanly).</summary>
    public void Release() => _never.TrySetResult();

    protected override async ValueTask HandleEventsAsync(ReadOnlyMemory<T> events, Subscription<T> from)
    {
        Batches.Enqueue(events.ToArray());
        if (Batches.Count >= blockAfterBatches)
        {
            await _never.Task;
        }
    }

    protected override ValueTask HandleCancelAsync(Subscription<T> subscription, StageExitReason reason)
    {
        Cancels.Enqueue((subscription.Id, reason));
        return ValueTask.CompletedTask;
    }

    protected override ValueTask HandleGapAsync(Subscription<T> subscription, long fromSequence, long toSequence)
    {
        Gaps.Enqueue((fromSequence, toSequence));
        return ValueTask.CompletedTask;
    }
}
