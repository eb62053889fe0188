using Hub.Stages.Subscriptions;

namespace Hub.Stages.Runtime;

/// <summary>To the consumer: start a subscription it was asked to make.</summary>
internal sealed class ConsumerSubscribeMessage<T>(Subscription<T> subscription) : StageMessage
{
    public override ValueTask InvokeAsync() => subscription.Consumer.OnSubscribeAsync(subscription);

    public override void DeadLetter() => subscription.FailRegistration(new InvalidOperationException($"Stage {subscription.ConsumerStage} has stopped."));
}
