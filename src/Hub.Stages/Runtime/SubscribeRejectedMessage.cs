using Hub.Stages.Subscriptions;

namespace Hub.Stages.Runtime;

/// <summary>To the consumer: the producer's dispatcher rejected the subscription's options.</summary>
internal sealed class SubscribeRejectedMessage<T>(Subscription<T> subscription, ArgumentException error) : StageMessage
{
    public override ValueTask InvokeAsync()
    {
        subscription.Consumer.OnRejected(subscription, error);
        return ValueTask.CompletedTask;
    }
}
