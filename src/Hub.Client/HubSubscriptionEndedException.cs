namespace Hub.Client;

/// <summary>Thrown by <see cref="HubClient.ReadAsync"/> when the hub ends the subscription (it was deleted, fell behind
/// with <see cref="OverflowPolicy.Disconnect"/>, or could not be resumed).</summary>
public sealed class HubSubscriptionEndedException(HubEnded ended)
    : Exception(ended.Message is null ? $"The hub ended the subscription: {ended.Reason}" : $"The hub ended the subscription: {ended.Reason} ({ended.Message})")
{
    /// <summary>The <c>ended</c> message.</summary>
    public HubEnded Ended { get; } = ended;
}
