namespace Hub.Server.Subscriptions;

/// <summary>
/// Who keeps a subscriber's demand window full: the wire's <c>"demand": "auto" | "manual"</c>. The consumer whose demand
/// this is runs on the client, so the client does the asking in both modes; the hub's stage only holds the credits the
/// client grants (with <c>Ask</c>) and spends one per event sent.
/// </summary>
/// <remarks>
/// Not <see cref="Hub.Stages.Subscriptions.DemandMode"/>: there, <c>Automatic</c> means that the consumer stage itself
/// asks <c>maxDemand</c> on subscribing and asks again whenever its outstanding demand falls to <c>minDemand</c>. Over the
/// wire that consumer is the client: <see cref="Auto"/> is GenStage's automatic demand run by the client's library (its
/// first ask of <c>maxDemand</c> is implied by the subscribe, so the stage starts with that many credits; it re-asks
/// <c>maxDemand − minDemand</c> as it handles events), and <see cref="Manual"/> is GenStage's manual demand (no credits
/// until the client's first <c>Ask</c>).
/// </remarks>
public enum SubscriberDemand
{
    /// <summary><c>"auto"</c>: the stage starts with <c>maxDemand</c> credits; the client's library re-asks by itself.</summary>
    Auto,

    /// <summary><c>"manual"</c>: the stage starts with no credits; the client grants each one with <c>Ask</c>.</summary>
    Manual,
}
