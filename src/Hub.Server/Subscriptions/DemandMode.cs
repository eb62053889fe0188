namespace Hub.Server.Subscriptions;

/// <summary>How a subscription's credits start.</summary>
public enum DemandMode
{
    /// <summary>With <c>maxDemand</c> credits; the client re-asks as it handles events (GenStage's automatic demand).</summary>
    Auto,

    /// <summary>With none; only the client's <c>Ask</c> grants credits.</summary>
    Manual,
}
