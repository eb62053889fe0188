using Hub.Stages.Dispatchers;

namespace Hub.Stages.Subscriptions;

/// <summary>Options for one consumer-to-producer subscription.</summary>
/// <typeparam name="T">The event type.</typeparam>
public sealed class SubscriptionOptions<T>
{
    /// <summary>The default options: automatic demand, max 1000, min 500, permanent.</summary>
    public static SubscriptionOptions<T> Default { get; } = new();

    /// <summary>The most events outstanding; default <see cref="DemandLimits.DefaultMaxDemand"/>.</summary>
    public int? MaxDemand { get; init; }

    /// <summary>The outstanding demand at or below which an automatic subscription asks again; default <c>MaxDemand / 2</c>.</summary>
    public int? MinDemand { get; init; }

    /// <summary>Automatic (default) or manual demand.</summary>
    public DemandMode Demand { get; init; } = DemandMode.Automatic;

    /// <summary>What happens to the consumer when the subscription ends; default <see cref="CancelMode.Permanent"/>.</summary>
    public CancelMode Cancel { get; init; } = CancelMode.Permanent;

    /// <summary>
    /// Broadcast dispatchers only: the events this subscriber wants. Filtered-out events are credited back at once,
    /// so filtering never uses the subscriber's demand.
    /// </summary>
    public Func<T, bool>? Selector { get; init; }

    /// <summary><see cref="CursorBroadcastDispatcher{T}"/> only: this subscriber's overflow policy (default: the dispatcher's).</summary>
    public OverflowPolicy? Overflow { get; init; }

    /// <summary><see cref="PartitionDispatcher{T}"/> only: the partition this subscriber takes (exactly one subscriber per partition).</summary>
    public int? Partition { get; init; }

    /// <summary>The effective max demand.</summary>
    internal int EffectiveMaxDemand => MaxDemand ?? DemandLimits.DefaultMaxDemand;

    /// <summary>The effective min demand.</summary>
    internal int EffectiveMinDemand => MinDemand ?? DemandLimits.DefaultMinDemand(EffectiveMaxDemand);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the option and its range when the demand options are invalid.</summary>
    internal void Validate()
    {
        string? error = DemandLimits.Validate(EffectiveMaxDemand, EffectiveMinDemand, nameof(MaxDemand), nameof(MinDemand));
        if (error is not null)
        {
            throw new ArgumentException(error, "options");
        }
    }
}
