using Hub.Stages.Subscriptions;

namespace Hub.Stages.Runtime;

/// <summary>To the consumer: its owner cancels one of its subscriptions.</summary>
internal sealed class ConsumerCancelMessage<T>(Subscription<T> subscription, StageExitReason reason) : StageMessage
{
    public override ValueTask InvokeAsync() => subscription.Consumer.EndAsync(subscription, reason, notifyProducer: true);
}
