using Hub.Stages.Subscriptions;

namespace Hub.Stages.Runtime;

/// <summary>To the consumer: a batch from its producer.</summary>
internal sealed class EventsMessage<T>(Subscription<T> subscription, ReadOnlyMemory<T> events) : StageMessage
{
    public override ValueTask InvokeAsync() => subscription.Consumer.OnEventsAsync(subscription, events);
}
