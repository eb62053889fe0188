using System.Text.RegularExpressions;

namespace Hub.Client;

/// <summary>What the client reads in the hub's answers.</summary>
internal static partial class HubErrors
{
    /// <summary>The <c>ended</c> reason of a hub that is stopping: the subscription is resumed on the next connection.</summary>
    public const string ShutdownReason = "shutdown";

    /// <summary>The hub's own message, without SignalR's "An unexpected error occurred invoking 'X' on the server.
    /// HubException: " in front.</summary>
    public static string Clean(string message) => Prefix().Replace(message, "");

    /// <summary>Whether a refused <c>Subscribe</c> says that the log was reset (it names <c>epoch</c> or <c>after</c>).</summary>
    public static bool IsReset(string cleaned) => Reset().IsMatch(cleaned);

    /// <summary>Whether a refused <c>Ask</c> or <c>Unsubscribe</c> only says the subscription is gone already.</summary>
    public static bool IsNotLive(string cleaned) => cleaned.StartsWith("subscriptionId: no live subscription", StringComparison.Ordinal);

    [GeneratedRegex(@"^An unexpected error occurred invoking '[^']*' on the server\. HubException: ")]
    private static partial Regex Prefix();

    [GeneratedRegex(@"^(epoch|after): .*\breset\b", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex Reset();
}
