namespace Hub.Client;

/// <summary>
/// What a subscription yields, in order: <see cref="HubEvent"/>, <see cref="HubGap"/>, <see cref="HubReset"/> and, last,
/// <see cref="HubEnded"/>. <see cref="HubSubscription.ReadMessagesAsync"/> yields them all; <c>ReadAsync</c> only the events.
/// </summary>
public abstract record HubMessage;
