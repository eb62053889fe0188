using Hub.Stages.Subscriptions;

namespace Hub.Stages.Runtime;

/// <summary>To the producer: a subscriber has left.</summary>
internal sealed class UnsubscribeMessage<T>(Subscription<T> subscription) : StageMessage
{
    public override ValueTask InvokeAsync() => subscription.Producer.OnCancelAsync(subscription);
}
