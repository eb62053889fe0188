using Hub.Stages.Subscriptions;

namespace Hub.Stages.Runtime;

/// <summary>To the consumer: the producer ended the subscription (it stopped, was missing, or dropped the subscriber).</summary>
internal sealed class ProducerCancelMessage<T>(Subscription<T> subscription, StageExitReason reason) : StageMessage
{
    public override ValueTask InvokeAsync() => subscription.Consumer.EndAsync(subscription, reason, notifyProducer: false);
}
