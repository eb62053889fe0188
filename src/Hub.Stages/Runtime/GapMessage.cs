using Hub.Stages.Subscriptions;

namespace Hub.Stages.Runtime;

/// <summary>To the consumer: events <c>[from, to)</c> were dropped before it read them.</summary>
internal sealed class GapMessage<T>(Subscription<T> subscription, long fromSequence, long toSequence) : StageMessage
{
    public override ValueTask InvokeAsync() => subscription.Consumer.OnGapAsync(subscription, fromSequence, toSequence);
}
