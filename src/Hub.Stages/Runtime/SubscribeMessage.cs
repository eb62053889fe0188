using Hub.Stages.Subscriptions;

namespace Hub.Stages.Runtime;

/// <summary>To the producer: add a subscriber, with its initial demand.</summary>
internal sealed class SubscribeMessage<T>(Subscription<T> subscription, long initialDemand) : StageMessage
{
    public override ValueTask InvokeAsync() => subscription.Producer.OnSubscribeAsync(subscription, initialDemand);

    // The producer is gone (GenStage's :noproc): the consumer sees the subscription end.
    public override void DeadLetter() => subscription.Consumer.Stage.Post(new ProducerCancelMessage<T>(subscription, StageExitReason.NoProducer));
}
