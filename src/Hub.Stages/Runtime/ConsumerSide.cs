using System.Diagnostics;
using Hub.Stages.Subscriptions;

namespace Hub.Stages.Runtime;

/// <summary>
/// The consumer half of a stage: its subscriptions, automatic demand and cancel modes. Every method except
/// <see cref="SubscribeAsync"/> runs on the owning stage's turn.
/// </summary>
internal sealed class ConsumerSide<T>
{
    private readonly IConsumerHost<T> _host;
    private readonly Dictionary<long, Subscription<T>> _subscriptions = [];

    public ConsumerSide(Stage stage, IConsumerHost<T> host)
    {
        Stage = stage;
        _host = host;
    }

    public Stage Stage { get; }

    /// <summary>Validates the options (throwing an <see cref="ArgumentException"/> naming the option) and starts the subscription.</summary>
    public Task<Subscription<T>> SubscribeAsync(IProducer<T> producer, SubscriptionOptions<T>? options)
    {
        ArgumentNullException.ThrowIfNull(producer);
        options ??= SubscriptionOptions<T>.Default;
        options.Validate();
        var subscription = new Subscription<T>(this, producer.Side, options);
        Stage.Post(new ConsumerSubscribeMessage<T>(subscription));
        return subscription.Registered;
    }

    public async ValueTask OnSubscribeAsync(Subscription<T> subscription)
    {
        _subscriptions.Add(subscription.Id, subscription);
        await _host.HandleSubscribeAsync(subscription).ConfigureAwait(false);
        long initial = 0;
        if (subscription.Options.Demand == DemandMode.Automatic)
        {
            initial = subscription.MaxDemand;
            subscription.AddOutstanding(initial);
        }

        subscription.Producer.Stage.Post(new SubscribeMessage<T>(subscription, initial));
    }

    public ValueTask OnEventsAsync(Subscription<T> subscription, ReadOnlyMemory<T> events) =>
        subscription.Active ? _host.OnEventsAsync(subscription, events) : ValueTask.CompletedTask;

    /// <summary>
    /// Hands events to the handler: in automatic mode in batches of at most <c>max − min</c>, asking after each batch
    /// once outstanding demand is at or below <c>min</c>; in manual mode as one batch.
    /// </summary>
    public async ValueTask ProcessEventsAsync(Subscription<T> subscription, ReadOnlyMemory<T> events)
    {
        bool automatic = subscription.Options.Demand == DemandMode.Automatic;
        int batchSize = automatic ? subscription.MaxDemand - subscription.MinDemand : Math.Max(events.Length, 1);
        while (!events.IsEmpty && subscription.Active)
        {
            ReadOnlyMemory<T> batch = events[..Math.Min(batchSize, events.Length)];
            events = events[batch.Length..];
            long outstanding = subscription.AddOutstanding(-batch.Length);
            if (outstanding < 0)
            {
                subscription.AddOutstanding(-outstanding);
                Stage.Report(new StageDiagnostic(
                    StageDiagnosticKind.ExcessEvents,
                    -outstanding,
                    $"Stage {Stage} received {-outstanding} events in excess from {subscription.ProducerStage}."));
                outstanding = 0;
            }

            await _host.HandleBatchAsync(batch, subscription).ConfigureAwait(false);
            if (automatic && subscription.Active && outstanding <= subscription.MinDemand)
            {
                long ask = subscription.MaxDemand - outstanding;
                subscription.AddOutstanding(ask);
                subscription.Producer.Stage.Post(new AskMessage<T>(subscription, ask));
            }
        }
    }

    public ValueTask OnGapAsync(Subscription<T> subscription, long fromSequence, long toSequence) =>
        subscription.Active ? _host.HandleGapAsync(subscription, fromSequence, toSequence) : ValueTask.CompletedTask;

    /// <summary>Ends a subscription: tells the producer (when the consumer ended it), runs the cancel callback, then applies the cancel mode.</summary>
    public async ValueTask EndAsync(Subscription<T> subscription, StageExitReason reason, bool notifyProducer)
    {
        if (!_subscriptions.Remove(subscription.Id))
        {
            // Never started here (the consumer stopped first) or already ended.
            subscription.MarkEnded(reason);
            return;
        }

        subscription.Active = false;
        if (notifyProducer)
        {
            subscription.Producer.Stage.Post(new UnsubscribeMessage<T>(subscription));
        }

        try
        {
            await _host.HandleCancelAsync(subscription, reason).ConfigureAwait(false);
        }
        finally
        {
            subscription.MarkEnded(reason);
        }

        bool stop = subscription.Options.Cancel switch
        {
            CancelMode.Permanent => true,
            CancelMode.Transient => !reason.IsNormal,
            _ => false,
        };
        AssertInvariants();
        if (stop)
        {
            Stage.StopNow(reason);
        }
    }

    /// <summary>The producer rejected the subscription's options: it ends without its cancel mode applying, and the subscribe call fails.</summary>
    public void OnRejected(Subscription<T> subscription, ArgumentException error)
    {
        _subscriptions.Remove(subscription.Id);
        subscription.Active = false;
        subscription.FailRegistration(error);
        subscription.MarkEnded(StageExitReason.Error(error));
    }

    public void OnStopped(StageExitReason reason)
    {
        foreach (Subscription<T> subscription in _subscriptions.Values)
        {
            subscription.Active = false;
            subscription.Producer.Stage.Post(new UnsubscribeMessage<T>(subscription));
            subscription.MarkEnded(reason);
        }

        _subscriptions.Clear();
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        foreach (Subscription<T> subscription in _subscriptions.Values)
        {
            Debug.Assert(subscription.Active, "every listed subscription is active");
            Debug.Assert(subscription.OutstandingDemand >= 0, "outstanding demand is never negative");
        }
    }
}
