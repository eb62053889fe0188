namespace Hub.Stages.Subscriptions;

/// <summary>How a consumer asks its producer for events.</summary>
public enum DemandMode
{
    /// <summary>
    /// Ask <c>maxDemand</c> on subscribe; handle events in batches of at most <c>maxDemand − minDemand</c>; after each
    /// batch, when outstanding demand is at or below <c>minDemand</c>, ask for <c>maxDemand − outstanding</c>.
    /// </summary>
    Automatic,

    /// <summary>No initial ask; only explicit <c>Subscription.Ask(n)</c>; batches are not cut.</summary>
    Manual,
}
