using Hub.Stages.Subscriptions;

namespace Hub.Stages.Runtime;

/// <summary>To the producer: a subscriber asks for more events.</summary>
internal sealed class AskMessage<T>(Subscription<T> subscription, long count) : StageMessage
{
    public override ValueTask InvokeAsync() => subscription.Producer.OnAskAsync(subscription, count);
}
