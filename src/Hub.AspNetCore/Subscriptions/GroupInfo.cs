namespace Hub.Server.Subscriptions;

/// <summary>A live group: subscriptions sharing one position in the log.</summary>
/// <param name="Name">The group's name.</param>
/// <param name="Topics">Its members' topic patterns.</param>
/// <param name="Types">Its members' type filter, if any.</param>
/// <param name="Dispatch"><c>demand</c> or <c>partition</c>.</param>
/// <param name="Members">The members' subscription ids.</param>
/// <param name="Position">Every matching event up to this sequence has been acknowledged (kept across restarts).</param>
/// <param name="Cursor">The last sequence the group has read from the log.</param>
/// <param name="Lag">Log positions between its position and the head.</param>
/// <param name="Queued">Events read and waiting for a member with credits.</param>
/// <param name="InFlight">Events delivered to members and not yet acknowledged.</param>
public sealed record GroupInfo(
    string Name,
    IReadOnlyList<string> Topics,
    IReadOnlyList<string>? Types,
    string Dispatch,
    IReadOnlyList<string> Members,
    long Position,
    long Cursor,
    long Lag,
    long Queued,
    long InFlight)
{
    /// <summary>The wire name of a group's dispatch: <c>demand</c> or <c>partition</c>.</summary>
    internal static string DispatchName(Groups.GroupDispatchMode mode) => mode == Groups.GroupDispatchMode.Partition ? "partition" : "demand";
}
