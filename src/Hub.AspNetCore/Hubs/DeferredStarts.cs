using Hub.Server.Subscriptions;

namespace Hub.Server.Hubs;

/// <summary>
/// Starts the subscriptions created by one hub invocation when that invocation's scope ends. SignalR writes a
/// non-streaming invocation's completion before it disposes the invocation's scope, so a client always has
/// <c>Subscribe</c>'s answer (the subscription id) before the first <c>events</c> for it, even on a replay.
/// </summary>
internal sealed class DeferredStarts : IDisposable
{
    private List<ISubscription>? _pending;

    /// <summary>Starts <paramref name="subscription"/> once the current invocation has been answered.</summary>
    public void Add(ISubscription subscription) => (_pending ??= []).Add(subscription);

    public void Dispose()
    {
        if (_pending is null)
        {
            return;
        }

        foreach (var subscription in _pending)
        {
            subscription.Start();
        }

        _pending = null;
    }
}
