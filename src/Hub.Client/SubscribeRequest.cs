using System.Diagnostics.CodeAnalysis;

namespace Hub.Client;

/// <summary>
/// What to subscribe to, as <c>Subscribe(request)</c> takes it (CONTRACT.md). The client chooses the subscription's id
/// itself, and replaces <see cref="After"/> and <see cref="Epoch"/> when it resumes.
/// </summary>
public sealed record SubscribeRequest
{
    /// <summary>The default <see cref="MaxDemand"/>: 1000.</summary>
    public const int DefaultMaxDemand = 1000;

    /// <summary>A request for <paramref name="topics"/> (topic patterns such as <c>orders.*</c> or <c>orders.&gt;</c>).</summary>
    [SetsRequiredMembers]
    public SubscribeRequest(params string[] topics) => Topics = topics;

    /// <summary>A request; set <see cref="Topics"/>.</summary>
    public SubscribeRequest()
    {
    }

    /// <summary>Topic patterns: 1 to the hub's <c>Hub:Limits:MaxSubscribeTopics</c> (64 by default).</summary>
    public required IReadOnlyList<string> Topics { get; init; }

    /// <summary>Event types to keep; null for all.</summary>
    public IReadOnlyList<string>? Types { get; init; }

    /// <summary>Replay the log after this sequence; null (the default) for new events only.</summary>
    public long? After { get; init; }

    /// <summary>The epoch of the log <see cref="After"/> belongs to (from an earlier subscription's
    /// <see cref="HubSubscription.Epoch"/>), so that a reset log is noticed instead of read from the wrong place.</summary>
    public string? Epoch { get; init; }

    /// <summary>The demand window: the most events the hub may send before the client asks again. Default 1000.</summary>
    public int MaxDemand { get; init; } = DefaultMaxDemand;

    /// <summary>With automatic demand the client asks for <c>MaxDemand − MinDemand</c> more each time that many events have
    /// been taken. Default <c>MaxDemand / 2</c>, as in GenStage.</summary>
    public int? MinDemand { get; init; }

    /// <summary>Automatic (the default) or manual demand.</summary>
    public DemandMode Demand { get; init; } = DemandMode.Auto;

    /// <summary>What happens when the subscriber falls behind the retention. Default <see cref="OverflowPolicy.DropOldest"/>.</summary>
    public OverflowPolicy Overflow { get; init; } = OverflowPolicy.DropOldest;

    /// <summary>The group to share events with, or null for every matching event.</summary>
    public string? Group { get; init; }

    /// <summary>How the group shares its events (with <see cref="Group"/>); null for the hub's default, demand.</summary>
    public GroupDispatch? Dispatch { get; init; }

    /// <summary>The effective <see cref="MinDemand"/>.</summary>
    internal int EffectiveMinDemand => MinDemand ?? MaxDemand / 2;

    /// <summary>Checks what the client itself relies on (the hub checks the rest and names the field).</summary>
    internal void Validate()
    {
        if (Topics is null || Topics.Count == 0)
        {
            throw new ArgumentException("Topics: at least one topic pattern is needed, such as \"orders.*\".", nameof(Topics));
        }

        if (MaxDemand < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDemand), MaxDemand, "MaxDemand must be at least 1.");
        }

        if (EffectiveMinDemand < 0 || EffectiveMinDemand >= MaxDemand)
        {
            throw new ArgumentOutOfRangeException(nameof(MinDemand), EffectiveMinDemand, $"MinDemand must be between 0 and MaxDemand - 1 = {MaxDemand - 1}.");
        }
    }
}

/// <summary>How a subscription's credits are granted.</summary>
public enum DemandMode
{
    /// <summary>The client asks again as events are taken (GenStage's automatic demand).</summary>
    Auto,

    /// <summary>Only <see cref="HubSubscription.Ask"/> grants credits.</summary>
    Manual,
}

/// <summary>What happens to a subscriber that falls behind the log's retention.</summary>
public enum OverflowPolicy
{
    /// <summary>It skips what is gone and is told with a <see cref="HubGap"/>.</summary>
    DropOldest,

    /// <summary>Its connection is closed.</summary>
    Disconnect,
}

/// <summary>How a group shares its events among its members.</summary>
public enum GroupDispatch
{
    /// <summary>Each event to one member with credits.</summary>
    Demand,

    /// <summary>All events of one key to the same member.</summary>
    Partition,
}
