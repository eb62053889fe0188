using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Diagnostics;
using Hub.Server.Groups;
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
    private readonly ConcurrentDictionary<string, ISubscription> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConnectionSubscriptions> _byConnection = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Group> _groups = new(StringComparer.Ordinal); // under _groupsGate
    private readonly Lock _groupsGate = new();
    private readonly ConcurrentDictionary<string, Action> _aborts = new(StringComparer.Ordinal);
    private readonly IEventLog _log;
    private readonly ISubscriberChannel _channel;
    private readonly DeliveryOptions _options;
    private readonly ILogger<Subscription> _logger;
    private readonly ILogger _groupLogger;
    private readonly IHostApplicationLifetime? _lifetime;
    private readonly HubMetrics _metrics;
    private int _watchingShutdown;

    /// <summary>Creates the registry.</summary>
    public SubscriptionRegistry(IEventLog log, ISubscriberChannel channel, IOptions<DeliveryOptions> options, ILogger<Subscription> logger, IHostApplicationLifetime? lifetime = null, HubMetrics? metrics = null, ILoggerFactory? loggerFactory = null)
    {
        _groupLogger = loggerFactory?.CreateLogger(typeof(Group).FullName!) ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
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

    /// <summary>The log's epoch, which <c>Subscribe</c> answers.</summary>
    public string Epoch => _log.Epoch;

    /// <summary>
    /// Creates a subscription for <paramref name="connectionId"/>, positioned after <c>request.After</c> or at the head. Its
    /// pump starts with <see cref="Subscription.Start"/>, once the client has the id. A request whose <c>epoch</c> is not
    /// the log's, or whose <c>after</c> is beyond the head, comes from another log: it fails (see
    /// <see cref="CheckSameLog"/>) and never starts somewhere else.
    /// </summary>
    /// <remarks>
    /// Every subscription gets a hub-wide <see cref="ISubscription.Id"/> (<c>sub_</c> and 20 hex digits, random); its id
    /// on the connection is the one the client chose, unique among that connection's live subscriptions, or else that
    /// same hub-wide id. So ids chosen by clients on different connections never meet: the REST API and the groups key by
    /// the hub-wide id, the connection by its own.
    /// </remarks>
    public ISubscription Create(string connectionId, SubscribeRequest request)
    {
        var mine = _byConnection.GetOrAdd(connectionId, static _ => new());
        lock (mine.Gate)
        {
            // Under the connection's gate: the count, the id's uniqueness and the insertion are one step.
            if (mine.Live.Count >= _options.MaxPerConnection)
            {
                throw new SubscribeRequestException("request", $"this connection already holds {mine.Live.Count} subscriptions, the most allowed (Hub:Subscriptions:MaxPerConnection)");
            }

            if (request.Id is { } chosen && mine.Live.ContainsKey(chosen))
            {
                throw new SubscribeRequestException("id", $"'{chosen}' is the id of a live subscription on this connection; choose another (an id may be used again once its subscription has ended)");
            }

            var head = _log.Head;
            CheckSameLog(request, head);
            WatchShutdown();
            var id = NewId();
            while (_byId.ContainsKey(id) || mine.Live.ContainsKey(id))
            {
                id = NewId();
            }

            var wireId = request.Id ?? id;
            var position = request.After ?? head;
            ISubscription subscription = request.Group is null
                ? new Subscription(id, wireId, connectionId, request, position, _log, _channel, _options.MaxBatchBytes, _logger, Forget, _metrics)
                : JoinGroup(id, wireId, connectionId, request, position);
            _byId[subscription.Id] = subscription;
            mine.Live[wireId] = subscription;
            return subscription;
        }
    }

    /// <summary>
    /// Fails when the request's position belongs to another log: its <c>epoch</c> is not this log's, or its <c>after</c> is
    /// beyond <paramref name="head"/> (a head never moves back within an epoch, so no reader of this log can hold such a
    /// sequence). Either way the log was reset (a new or emptied file, a restored backup, a memory log restarted).
    /// </summary>
    private void CheckSameLog(SubscribeRequest request, long head)
    {
        if (request.Epoch is { } epoch && !string.Equals(epoch, _log.Epoch, StringComparison.Ordinal))
        {
            throw new SubscribeRequestException("epoch", $"'{Topics.TopicName.Shorten(epoch)}' is not the epoch of this hub's log ('{_log.Epoch}'): the log was reset, and its " +
                "sequences are not those of the old one; subscribe again without epoch and after (or after: 0 to read the new log from its start)");
        }

        if (request.After is { } after && after > head)
        {
            throw new SubscribeRequestException("after", $"{after} is beyond the head of this hub's log ({head}, epoch '{_log.Epoch}'): the log was reset, and its " +
                "sequences are not those of the old one; subscribe again without after (or after: 0 to read the new log from its start)");
        }
    }

    /// <summary>The live groups.</summary>
    internal IReadOnlyList<Group> Groups
    {
        get
        {
            lock (_groupsGate)
            {
                return [.. _groups.Values];
            }
        }
    }

    /// <summary>
    /// Makes a member of the request's group, starting the group if it is not live: at its stored position if it has one
    /// (a group resumes where it was acknowledged), else at <paramref name="position"/>. A member must ask for the same
    /// topics, types and dispatch as the group's members.
    /// </summary>
    private GroupMember JoinGroup(string id, string wireId, string connectionId, SubscribeRequest request, long position)
    {
        lock (_groupsGate)
        {
            var name = request.Group!;
            if (_groups.TryGetValue(name, out var group))
            {
                if (request.DiffersFrom(group.Template) is { } field)
                {
                    throw new SubscribeRequestException("group", $"'{name}' has members with other {field} (topics [{string.Join(", ", group.Template.Topics)}], " +
                        $"types [{string.Join(", ", group.Template.Types ?? [])}], dispatch {group.Mode.ToString().ToLowerInvariant()}); a member must ask for the same {field}");
                }
            }
            else
            {
                group = new Group(name, request, request.Dispatch!.Value, position, _log.GetGroupPosition(name), _log, _options.MaxBatchBytes, _groupLogger);
                _groups.Add(name, group);
            }

            var member = new GroupMember(id, wireId, connectionId, request, group, _channel, _metrics, _logger, LeaveGroup, Forget);
            var reserved = group.Reserve(member);
            Debug.Assert(reserved, "a group in the registry is never closed");
            return member;
        }
    }

    /// <summary>Takes a member out of its group; the group closes with its last member.</summary>
    private void LeaveGroup(GroupMember member)
    {
        lock (_groupsGate)
        {
            if (member.Group.Leave(member))
            {
                _groups.Remove(member.Group.Name);
            }
        }
    }

    /// <summary>Finds a live subscription by its hub-wide id.</summary>
    public ISubscription? Find(string id) => _byId.GetValueOrDefault(id);

    /// <summary>Finds a live subscription of <paramref name="connectionId"/> by its id on that connection.</summary>
    public ISubscription? Find(string wireId, string connectionId) =>
        _byConnection.TryGetValue(connectionId, out var mine) ? mine.Live.GetValueOrDefault(wireId) : null;

    /// <summary>The live subscriptions.</summary>
    public IReadOnlyCollection<ISubscription> All => (IReadOnlyCollection<ISubscription>)_byId.Values;

    /// <summary>Ends a subscription (by its hub-wide id) and forgets it at once, so that its id on the connection is free
    /// again. Returns false when it is not live.</summary>
    public bool Remove(string id, string reason, bool notify)
    {
        if (!_byId.TryRemove(id, out var subscription))
        {
            return false;
        }

        ForgetOnConnection(subscription);
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

        foreach (var id in mine.Live.Values.Select(s => s.Id))
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
            // Every stage finishes its write in progress and sends its notice; one blocked on a stalled socket holds the
            // shutdown for at most ShutdownNoticeWait.
            var all = _byId.Values.ToArray();
            EndAll("shutdown");
            Task.WhenAll(all.Select(s => s.Completion)).Wait(ShutdownNoticeWait);
        });
    }

    /// <summary>Called by a subscription's pump when it stops, whatever the reason (a no-op when already removed).</summary>
    internal void Forget(ISubscription subscription)
    {
        if (_byId.TryRemove(new KeyValuePair<string, ISubscription>(subscription.Id, subscription)))
        {
            ForgetOnConnection(subscription);
        }
    }

    /// <summary>Frees the subscription's id on its connection, unless a newer subscription holds it already.</summary>
    private void ForgetOnConnection(ISubscription subscription)
    {
        if (_byConnection.TryGetValue(subscription.ConnectionId, out var mine))
        {
            mine.Live.TryRemove(new KeyValuePair<string, ISubscription>(subscription.WireId, subscription));
        }
    }

    /// <summary>A connection's live subscriptions by their id on it; <see cref="Gate"/> makes creating one a single step.</summary>
    private sealed class ConnectionSubscriptions
    {
        public Lock Gate { get; } = new();

        public ConcurrentDictionary<string, ISubscription> Live { get; } = new(StringComparer.Ordinal);
    }

    private static string NewId() => "sub_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10));
}
