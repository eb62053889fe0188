namespace Hub.Client;

/// <summary>
/// The hub's log is not the one this subscription was reading (a new, emptied or restored log: another epoch, or
/// <c>after</c> beyond its head), so sequences from before mean nothing in it. The client subscribes again from the
/// start of the new log; the events after this message are that log's, from its first retained one.
/// </summary>
/// <param name="Epoch">The epoch the subscription asked for, if it knew one.</param>
/// <param name="After">The sequence it asked to resume after.</param>
/// <param name="Message">The hub's answer, naming the field.</param>
public sealed record HubReset(string? Epoch, long? After, string Message) : HubMessage;
