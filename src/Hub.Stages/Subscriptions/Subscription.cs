using Hub.Stages.Runtime;

namespace Hub.Stages.Subscriptions;

/// <summary>
/// One consumer's subscription to one producer. Cancel it (or dispose it) to end it on both sides: the producer's
/// dispatcher forgets the subscriber and the consumer's cancel callback runs.
/// </summary>
/// <remarks>
/// Ending a subscription applies its <see cref="CancelMode"/>: with <see cref="CancelMode.Permanent"/> (the
/// default) the consumer stops even when the consumer itself cancelled, as in GenStage.
/// </remarks>
/// <typeparam name="T">The event type.</typeparam>
public sealed class Subscription<T> : IDisposable
{
    private static long s_nextId;

    private readonly TaskCompletionSource<Subscription<T>> _registered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<StageExitReason> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _outstanding;

    internal Subscription(ConsumerSide<T> consumer, ProducerSide<T> producer, SubscriptionOptions<T> options)
    {
        Id = Interlocked.Increment(ref s_nextId);
        Consumer = consumer;
        Producer = producer;
        Options = options;
        MaxDemand = options.EffectiveMaxDemand;
        MinDemand = options.EffectiveMinDemand;
    }

    /// <summary>A process-wide unique id; the producer's dispatcher knows the subscriber by it.</summary>
    public long Id { get; }

    /// <summary>The options it was made with.</summary>
    public SubscriptionOptions<T> Options { get; }

    /// <summary>The effective max demand.</summary>
    public int MaxDemand { get; }

    /// <summary>The effective min demand.</summary>
    public int MinDemand { get; }

    /// <summary>The demand asked and not yet matched by events.</summary>
    public long OutstandingDemand => Interlocked.Read(ref _outstanding);

    /// <summary>Completes with the reason once the subscription has ended (after the consumer's cancel callback).</summary>
    public Task<StageExitReason> Ended => _ended.Task;

    /// <summary>The producer's stage.</summary>
    public Stage ProducerStage => Producer.Stage;

    /// <summary>The consumer's stage.</summary>
    public Stage ConsumerStage => Consumer.Stage;

    internal ConsumerSide<T> Consumer { get; }

    internal ProducerSide<T> Producer { get; }

    internal Task<Subscription<T>> Registered => _registered.Task;

    /// <summary>Whether the consumer still takes events from it; read and written on the consumer's turn.</summary>
    internal bool Active { get; set; } = true;

    /// <summary>
    /// Asks the producer for <paramref name="count"/> more events (manual demand). <c>Ask(0)</c> does nothing; asking
    /// after the subscription ended does nothing.
    /// </summary>
    public void Ask(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count == 0 || _ended.Task.IsCompleted)
        {
            return;
        }

        AddOutstanding(count);
        Producer.Stage.Post(new AskMessage<T>(this, count));
    }

    /// <summary>Ends the subscription with <paramref name="reason"/> (default <see cref="StageExitReason.Normal"/>).</summary>
    public void Cancel(StageExitReason? reason = null) => Consumer.Stage.Post(new ConsumerCancelMessage<T>(this, reason ?? StageExitReason.Normal));

    /// <summary>Cancels with <see cref="StageExitReason.Normal"/>.</summary>
    public void Dispose() => Cancel();

    /// <inheritdoc/>
    public override string ToString() => $"{Consumer.Stage} → {Producer.Stage} #{Id}";

    internal long AddOutstanding(long delta) => Interlocked.Add(ref _outstanding, delta);

    internal void MarkRegistered() => _registered.TrySetResult(this);

    internal void FailRegistration(Exception exception) => _registered.TrySetException(exception);

    internal void MarkEnded(StageExitReason reason)
    {
        _registered.TrySetResult(this);
        _ended.TrySetResult(reason);
    }
}
