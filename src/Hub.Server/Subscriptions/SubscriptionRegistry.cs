using System.Collections.Concurrent;
using System.Security.Cryptography;
using Hub.Server.Log;
using Hub.Server.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hub.Server.Subscriptions;

/// <summary>
/// The live subscriptions: creates their stages, finds them by id, ends them. The figures the REST API shows are read
/// from the stages themselves, never kept twice.
/// </summary>
public sealed class SubscriptionRegistry
{
    private static readonly TimeSpan ShutdownNoticeWait = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, Subscription> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, Subscription>> _byConnection = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Action> _aborts = new(StringComparer.Ordinal);
    private readonly IEventLog _log;
    private readonly ISubscriberChannel _channel;
    private readonly DeliveryOptions _options;
    private readonly ILogger<Subscription> _logger;
    private readonly IHostApplicationLifetime? _lifetime;
    private readonly HubMetrics _metrics;
    private int _watchingShutdown;

    /// <summary>Creates the registry.</summary>
    public SubscriptionRegistry(IEventLog log, ISubscriberChannel channel, IOptions<DeliveryOptions> options, ILogger<Subscription> logger, IHostApplicationLifetime? lifetime = null, HubMetrics? metrics = null)
    {
        _metrics = metrics ?? new HubMetrics();
        _log = log;
        _channel = channel;
        _options = options.Value;
        _logger = logger;
        _lifetime = lifetime;
    }

    /// <summary>How many SignalR connections are open.</summary>
    public int ConnectionCount => _aborts.Count;

    /// <summary>How many subscriptions are live.</summary>
    public int Count => _byId.Count;

    /// <summary>
    /// Creates a subscription for <paramref name="connectionId"/>, positioned after <c>request.After</c> (clamped to the
    /// head) or at the head. Its pump starts with <see cref="Subscription.Start"/>, once the client has the id.
    /// </summary>
    public Subscription Create(string connectionId, SubscribeRequest request)
    {
        var mine = _byConnection.GetOrAdd(connectionId, static _ => new(StringComparer.Ordinal));
        if (mine.Count >= _options.MaxPerConnection)
        {
            throw new SubscribeRequestException("request", $"this connection already holds {mine.Count} subscriptions, the most allowed (Hub:Subscriptions:MaxPerConnection)");
        }

        WatchShutdown();
        var head = _log.Head;
        var position = request.After is { } after ? Math.Min(after, head) : head;
        var subscription = new Subscription(NewId(), connectionId, request, position, _log, _channel, _options.MaxBatchBytes, _logger, Forget, _metrics);
        _byId[subscription.Id] = subscription;
        mine[subscription.Id] = subscription;
        return subscription;
    }

    /// <summary>Finds a live subscription by id.</summary>
    public Subscription? Find(string id) => _byId.GetValueOrDefault(id);

    /// <summary>Finds a live subscription by id that belongs to <paramref name="connectionId"/>.</summary>
    public Subscription? Find(string id, string connectionId) =>
        _byId.TryGetValue(id, out var subscription) && subscription.ConnectionId == connectionId ? subscription : null;

    /// <summary>The live subscriptions.</summary>
    public IReadOnlyCollection<Subscription> All => (IReadOnlyCollection<Subscription>)_byId.Values;

    /// <summary>Ends a subscription and forgets it at once. Returns false when it is not live.</summary>
    public bool Remove(string id, string reason, bool notify)
    {
        if (!_byId.TryRemove(id, out var subscription))
        {
            return false;
        }

        if (_byConnection.TryGetValue(subscription.ConnectionId, out var mine))
        {
            mine.TryRemove(id, out _);
        }

        subscription.End(reason, notify);
        return true;
    }

    /// <summary>Remembers how to close a connection (for the <c>disconnect</c> overflow policy).</summary>
    public void TrackConnection(string connectionId, Action abort) => _aborts[connectionId] = abort;

    /// <summary>Closes a connection, if it is still open.</summary>
    public void AbortConnection(string connectionId)
    {
        if (_aborts.TryGetValue(connectionId, out var abort))
        {
            abort();
        }
    }

    /// <summary>Ends every subscription of a connection that has gone.</summary>
    public void RemoveConnection(string connectionId)
    {
        _aborts.TryRemove(connectionId, out _);
        if (!_byConnection.TryRemove(connectionId, out var mine))
        {
            return;
        }

        foreach (var id in mine.Keys)
        {
            if (_byId.TryRemove(id, out var subscription))
            {
                subscription.End("disconnected", notify: false);
            }
        }
    }

    /// <summary>Ends every subscription, telling each client (at shutdown).</summary>
    public void EndAll(string reason)
    {
        foreach (var id in _byId.Keys)
        {
            Remove(id, reason, notify: true);
        }
    }

    /// <summary>
    /// At shutdown, ends every subscription with <c>ended {reason: "shutdown"}</c> and waits briefly for those messages to
    /// be written. Registered with the first subscription: by then SignalR's connection manager, which closes every
    /// connection when the application stops, has registered its own callback, and stopping callbacks run last
    /// registered first, so the clients are told before their connections close.
    /// </summary>
    private void WatchShutdown()
    {
        if (_lifetime is null || Interlocked.Exchange(ref _watchingShutdown, 1) != 0)
        {
            return;
        }

        _lifetime.ApplicationStopping.Register(() =>
        {
            // Wait for the stages that can write (one blocked in a write to a stalled socket cannot, and is not waited for).
            var writable = _byId.Values.Where(s => s.Buffered == 0).ToArray();
            EndAll("shutdown");
            Task.WhenAll(writable.Select(s => s.Completion)).Wait(ShutdownNoticeWait);
        });
    }

    /// <summary>Called by a subscription's pump when it stops, whatever the reason (a no-op when already removed).</summary>
    internal void Forget(Subscription subscription)
    {
        if (_byId.TryRemove(new KeyValuePair<string, Subscription>(subscription.Id, subscription)) &&
            _byConnection.TryGetValue(subscription.ConnectionId, out var mine))
        {
            mine.TryRemove(subscription.Id, out _);
        }
    }

    private static string NewId() => "sub_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10));
}
