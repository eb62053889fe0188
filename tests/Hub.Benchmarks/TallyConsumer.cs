using Hub.Stages;
using Hub.Stages.Subscriptions;

namespace Hub.Benchmarks;

/// <summary>A consumer that adds each batch's length to a shared <see cref="DeliveryTally"/>.</summary>
internal sealed class TallyConsumer(DeliveryTally tally) : Consumer<long>("tally")
{
    protected override ValueTask HandleEventsAsync(ReadOnlyMemory<long> events, Subscription<long> from)
    {
        tally.Add(events.Length);
        return ValueTask.CompletedTask;
    }
}
