namespace Hub.Server.Subscriptions;

/// <summary>What every stage that writes to a subscriber does the same way.</summary>
internal static class SubscriberChannelExtensions
{
    /// <summary>
    /// After a failure: tells the client <c>ended</c> with <paramref name="reason"/> if its connection still takes it (the
    /// connection may be what failed). Answers the exception that stopped it, or <see langword="null"/> once sent.
    /// </summary>
    public static async Task<Exception?> TrySendEndedAsync(this ISubscriberChannel channel, string connectionId, string subscriptionId, string reason, CancellationToken cancellationToken)
    {
        try
        {
            await channel.SendEndedAsync(connectionId, subscriptionId, new EndedNotice(reason), cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }
}
