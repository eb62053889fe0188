namespace Hub.Client;

/// <summary>Matching events in <paramref name="From"/>..<paramref name="To"/> were skipped for this subscription (only
/// with <see cref="OverflowPolicy.DropOldest"/>); the subscription goes on after <paramref name="To"/>.</summary>
/// <param name="From">The first sequence skipped.</param>
/// <param name="To">The last sequence skipped.</param>
/// <param name="Reason"><c>overflow</c> or <c>retention</c>.</param>
public sealed record HubGap(long From, long To, string Reason) : HubMessage;
