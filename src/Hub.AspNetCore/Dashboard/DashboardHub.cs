using System.Runtime.CompilerServices;
using SignalRHub = Microsoft.AspNetCore.SignalR.Hub;

namespace Hub.Server.Dashboard;

/// <summary>
/// The dashboard's feed at <c>/hubs/dashboard</c>: <c>Watch</c> streams a <see cref="DashboardSnapshot"/> once a second
/// (the latest one at once), <c>History</c> answers the recent throughput so the chart starts full. A stream is written
/// only as fast as its client reads it; a slow dashboard skips snapshots rather than queueing them.
/// </summary>
internal sealed class DashboardHub(DashboardFeed feed) : SignalRHub
{
    /// <summary>The path the hub is mapped at.</summary>
    public const string Path = "/hubs/dashboard";

    /// <summary>Streams snapshots until the client cancels or disconnects.</summary>
    public async IAsyncEnumerable<DashboardSnapshot> Watch([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var snapshot = feed.Latest;
        while (!cancellationToken.IsCancellationRequested)
        {
            yield return snapshot;
            snapshot = await feed.NextAsync(snapshot, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The throughput of the last minutes, oldest first.</summary>
    public IReadOnlyList<RatePoint> History() => feed.History();
}
