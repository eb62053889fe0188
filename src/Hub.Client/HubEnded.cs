namespace Hub.Client;

/// <summary>The subscription is over: the hub ended it (<c>deleted</c>, <c>overflow</c>, …), or refused to resume it
/// (<c>rejected</c>, with the hub's <paramref name="Message"/>). Always the last message of a subscription.</summary>
/// <param name="Reason">Why, as the hub says it.</param>
/// <param name="Message">The hub's error, for <c>rejected</c>.</param>
public sealed record HubEnded(string Reason, string? Message = null) : HubMessage;
