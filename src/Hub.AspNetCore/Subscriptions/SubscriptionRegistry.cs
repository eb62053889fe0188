using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Diagnostics;
using Hub.Server.Groups;
using Hub.Log;
using Hub.Server.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hub.Server.Subscriptions;

/// <summary>
/// The live subscriptions: creates their stages, finds them by id, ends them. The figures the REST API shows are read
/// from the stages themselves, never kept twice.
/// </summary>
public sealed partial class SubscriptionRegistry
{
    private static readonly TimeSpan ShutdownNoticeWait = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, DeliveryStage> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConnectionSubscriptions> _byConnection = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Group>> _groups = new(StringComparer.Ordinal); // live groups by name, under _groupsGate
    private readonly Lock _groupsGate = new();
    private readonly ConcurrentDictionary<string, TrackedConnection> _connections = new(StringComparer.Ordinal);
    private readonly IEventLog _log;
    private readonly ISubscriberChannel _channel;
    private readonly DeliveryOptions _options;
    private readonly ILogger<Subscription> _logger;
    private readonly ILogger _groupLogger;
    private readonly IHostApplicationLifetime? _lifetime;
    private readonly HubMetrics _metrics;
    private readonly Action<DeliveryStage> _forget; // one delegate for every stage, not one each
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
        _forget = Forget;
    }

    /// <summary>How many SignalR connections are open.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>How many subscriptions are live.</summary>
    public int Count => _byId.Count;

    /// <summary>The log's epoch, which <c>Subscribe</c> answers.</summary>
    public string Epoch => _log.Epoch;

    /// <summary>
    /// Creates a subscription for <paramref name="connectionId"/>, positioned after <c>request.After</c> or at the head. Its
    /// pump starts with <see cref="DeliveryStage.Start"/>, once the client has the id. A request whose <c>epoch</c> is not
    /// the log's, or whose <c>after</c> is beyond the head, comes from another log: it fails (see
    /// <see cref="CheckSameLog"/>) and never starts somewhere else.
    /// </summary>
    /// <param name="connectionId">The connection that will hold it.</param>
    /// <param name="request">The validated request (its topics already checked against the caller's grants).</param>
    /// <param name="mayRead">Whether the caller may read a topic pattern (its subscribe grants); null: everything. Decides
    /// whether a live group of the same name with other topics is the caller's to be told about (see <c>JoinGroup</c>).</param>
    /// <remarks>
    /// Every subscription gets a hub-wide <see cref="ISubscription.Id"/> (<c>sub_</c> and 20 hex digits, random); its id
    /// on the connection is the one the client chose, unique among that connection's live subscriptions, or else that
    /// same hub-wide id. So ids chosen by clients on different connections never meet: the REST API and the groups key by
    /// the hub-wide id, the connection by its own.
    /// </remarks>
    public ISubscription Create(string connectionId, SubscribeRequest request, Func<Topics.TopicPattern, bool>? mayRead = null)
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
            DeliveryStage subscription = request.Group is null
                ? new Subscription(id, wireId, connectionId, request, position, _log, _channel, _options.MaxBatchBytes, _logger, _forget, _metrics)
                : JoinGroup(id, wireId, connectionId, request, position, mayRead ?? (static _ => true));
            _byId[subscription.Id] = subscription;
            mine.Live[wireId] = subscription;
            return subscription;
        }
    }

    /// <summary>The <see cref="ISubscription.ConnectionId"/> of a stage no connection holds (an in-process handler's);
    /// never a SignalR connection's id.</summary>
    public const string InProcessConnectionId = "in-process";

    /// <summary>
    /// Creates a stage that writes to <paramref name="channel"/> in this process instead of to a connection (an in-process
    /// handler), positioned after <paramref name="position"/>, with the id <paramref name="id"/>. It is listed, ended at
    /// shutdown and removed like any subscription. Its pump starts with <see cref="DeliveryStage.Start"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">A live subscription has that id.</exception>
    internal Subscription CreateInProcess(string id, SubscribeRequest request, long position, ISubscriberChannel channel)
    {
        WatchShutdown();
        var subscription = new Subscription(id, id, InProcessConnectionId, request, position, _log, channel, _options.MaxBatchBytes, _logger, _forget, _metrics);
        if (!_byId.TryAdd(id, subscription))
        {
            throw new InvalidOperationException($"A live subscription has the id '{id}'.");
        }

        return subscription;
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
                return [.. _groups.Values.SelectMany(static g => g)];
            }
        }
    }

    /// <summary>
    /// Makes a member of the request's group, starting the group if it is not live: at its stored position if it has one
    /// (a group resumes where it was acknowledged), else at <paramref name="position"/>.
    /// </summary>
    /// <remarks>
    /// A group is its name and what it reads (<see cref="SubscribeRequest.GroupKey"/>): a request with the same name and
    /// other topics, types or dispatch is another group, with its own position, so it can neither start from, move nor
    /// learn another's. While a group of that name with other topics is live, a caller who may read all of that group's
    /// topics is refused (it is most likely a member of that group asking for the wrong thing, and it may know that
    /// group anyway); the message names the field that differs, not the other group's values. A caller who may not read
    /// them is not told that such a group exists: its group is simply another one.
    /// </remarks>
    private GroupMember JoinGroup(string id, string wireId, string connectionId, SubscribeRequest request, long position, Func<Topics.TopicPattern, bool> mayRead)
    {
        var key = request.GroupKey!.Value;
        lock (_groupsGate)
        {
            if (!_groups.TryGetValue(key.Name, out var named))
            {
                named = [];
            }

            var group = named.Find(g => g.Key == key);
            if (group is null)
            {
                foreach (var other in named)
                {
                    if (other.Template.Patterns.All(mayRead) && request.DiffersFrom(other.Template) is { } field)
                    {
                        throw new SubscribeRequestException("group", $"'{key.Name}' has members now that ask for other {field}; a member must ask for the same topics, types and dispatch as the group's members (or use another group name)");
                    }
                }

                // Stored at once: a group coming back is live again (its position is not removed while it has members),
                // and a new group is counted against the bound on stored positions before it exists.
                var stored = _log.GetGroupPosition(key) ?? new GroupPosition(position, 0);
                if (!_log.SaveGroupPosition(key, stored))
                {
                    throw new SubscribeRequestException("group", $"'{key.Name}' would be a new group, and the hub keeps the most group positions it may (Hub:Log:MaxGroupPositions); a group's position is removed once it has been gone longer than Hub:Log:Retention:MaxAge");
                }

                group = new Group(key, request, request.Dispatch!.Value, stored, _log, _options.MaxBatchBytes, _groupLogger);
                named.Add(group);
                _groups[key.Name] = named;
            }

            var member = new GroupMember(id, wireId, connectionId, request, group, _channel, _metrics, _logger, LeaveGroup, _forget);
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
            if (member.Group.Leave(member) && _groups.TryGetValue(member.Group.Key.Name, out var named))
            {
                named.Remove(member.Group);
                if (named.Count == 0)
                {
                    _groups.Remove(member.Group.Key.Name);
                }
            }
        }
    }

    /// <summary>Finds a live subscription by its hub-wide id.</summary>
    public ISubscription? Find(string id) => _byId.GetValueOrDefault(id);

    /// <summary>Finds a live subscription of <paramref name="connectionId"/> by its id on that connection.</summary>
    public ISubscription? Find(string wireId, string connectionId)
    {
        if (!_byConnection.TryGetValue(connectionId, out var mine))
        {
            return null;
        }

        lock (mine.Gate)
        {
            return mine.Live.GetValueOrDefault(wireId);
        }
    }

    /// <summary>The live stages.</summary>
    internal ICollection<DeliveryStage> All => _byId.Values;

    /// <summary>
    /// The live stages and groups now, each figure read from the stage or group itself: what <c>GET /api/subscriptions</c>,
    /// the dashboard and the gauges show.
    /// </summary>
    public DeliverySnapshot Snapshot() => new(ConnectionCount, DescribeStages(), DescribeGroups());

    /// <summary>
    /// The same as <see cref="Snapshot()"/> with only the <paramref name="maxSubscriptions"/> most lagging stages described
    /// (in the same order), and how many are live: what the dashboard shows once a second. The other stages are looked at
    /// (their lag and id) but not described, so a snapshot of many idle subscriptions makes no garbage per subscription.
    /// </summary>
    internal DeliverySnapshot Snapshot(int maxSubscriptions, out int subscriptionCount)
    {
        // A heap of the most lagging seen so far, its root the one that would be listed last (and leaves first).
        var kept = new PriorityQueue<DeliveryStage, (long Lag, string Id)>(maxSubscriptions + 1, ListedLast.Instance);
        var count = 0;
        foreach (var (_, stage) in _byId)
        {
            count++;
            var key = (stage.Lag, stage.Id);
            if (kept.Count < maxSubscriptions)
            {
                kept.Enqueue(stage, key);
            }
            else if (kept.TryPeek(out _, out var last) && ListedLast.Instance.Compare(last, key) < 0)
            {
                kept.DequeueEnqueue(stage, key);
            }
        }

        subscriptionCount = count;
        return new(ConnectionCount, Ordered(kept.UnorderedItems.Select(static item => item.Element.Describe())), DescribeGroups());
    }

    /// <summary>Every live stage, the laggards first.</summary>
    private SubscriptionInfo[] DescribeStages() => Ordered(_byId.Values.Select(static s => s.Describe()));

    /// <summary>The listing order: the laggards first, then by id.</summary>
    private static SubscriptionInfo[] Ordered(IEnumerable<SubscriptionInfo> stages) => stages
        .OrderByDescending(static s => s.Lag)
        .ThenBy(static s => s.Id, StringComparer.Ordinal)
        .ToArray();

    /// <summary>Orders (lag, id) keys so that the one listed last comes first: the least lag, then the greatest id.</summary>
    private sealed class ListedLast : IComparer<(long Lag, string Id)>
    {
        public static readonly ListedLast Instance = new();

        public int Compare((long Lag, string Id) x, (long Lag, string Id) y) =>
            x.Lag != y.Lag ? x.Lag.CompareTo(y.Lag) : string.CompareOrdinal(y.Id, x.Id);
    }

    /// <summary>Every live group (or those <paramref name="visible"/> selects), the laggards first.</summary>
    internal GroupInfo[] DescribeGroups(Func<Group, bool>? visible = null) => Groups
        .Where(g => visible is null || visible(g))
        .Select(static g =>
        {
            var state = g.Describe();
            return new GroupInfo(g.Name, g.Template.Topics, g.Template.Types, GroupInfo.DispatchName(g.Mode), state.Members, g.Position, g.Cursor, g.Lag, state.Queued, state.InFlight);
        })
        .OrderByDescending(static g => g.Lag)
        .ThenBy(static g => g.Name, StringComparer.Ordinal)
        .ToArray();

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

    /// <summary>Remembers how to close a connection: at once (<see cref="TrackedConnection.Abort"/>, for the
    /// <c>disconnect</c> overflow policy) or after what was written to it has been sent (at shutdown).</summary>
    public void TrackConnection(string connectionId, TrackedConnection connection) => _connections[connectionId] = connection;

    /// <summary>Closes a connection, if it is still open.</summary>
    public void AbortConnection(string connectionId)
    {
        if (_connections.TryGetValue(connectionId, out var connection))
        {
            connection.Abort();
        }
    }

    /// <summary>Ends every subscription of a connection that has gone.</summary>
    public void RemoveConnection(string connectionId)
    {
        _connections.TryRemove(connectionId, out _);
        if (!_byConnection.TryRemove(connectionId, out var mine))
        {
            return;
        }

        string[] ids;
        lock (mine.Gate)
        {
            ids = [.. mine.Live.Values.Select(static s => s.Id)];
        }

        foreach (var id in ids)
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
    /// At shutdown, ends every subscription with <c>ended {reason: "shutdown"}</c>, then closes each connection that held
    /// one once its notices are written, and waits until the transport has sent them and closed. Registered with the first
    /// subscription: by then SignalR's connection manager, which closes every connection when the application stops, has
    /// registered its own callback, and stopping callbacks run last registered first, so this runs before it.
    /// </summary>
    /// <remarks>
    /// A written notice is only in the connection's pipe; SignalR's connection manager closes connections at shutdown
    /// without sending what is still there (<c>HttpConnectionContext.DisposeAsync(closeGracefully: false)</c> cancels the
    /// WebSocket transport's pending read). So the hub ends each connection itself first, by
    /// <see cref="TrackedConnection.RequestClose"/>: the hub connection ends as one that may reconnect (its close message
    /// carries <c>allowReconnect: true</c>, so SignalR clients with automatic reconnect come back), the application side
    /// finishes, and the transport sends everything before its close frame. Its <see cref="TrackedConnection.Closed"/>
    /// says when it has. The whole takes at most <see cref="ShutdownNoticeWait"/>: a connection not closed by then (a
    /// stalled socket, a client that does not answer the close) is left to the connection manager, and is logged.
    /// </remarks>
    private void WatchShutdown()
    {
        if (_lifetime is null || Interlocked.Exchange(ref _watchingShutdown, 1) != 0)
        {
            return;
        }

        _lifetime.ApplicationStopping.Register(() =>
        {
            var all = _byId.Values.ToArray();
            EndAll("shutdown");
            var closing = all.GroupBy(static s => s.ConnectionId, StringComparer.Ordinal)
                .Select(c => (Id: c.Key, Closed: CloseAfterAsync(c.Key, c.Select(static s => s.Completion))))
                .ToArray();
            Task.WhenAll(closing.Select(static c => c.Closed)).Wait(ShutdownNoticeWait);
            var open = closing.Where(static c => !c.Closed.IsCompleted).Select(static c => c.Id).ToArray();
            if (open.Length > 0)
            {
                Log.NotClosedAtShutdown(_logger, open.Length, ShutdownNoticeWait, string.Join(", ", open.Take(10)));
            }
        });
    }

    /// <summary>Once <paramref name="written"/> (the stages' completions: their notices are written) have completed,
    /// closes the connection so that its transport sends them, and completes when it has closed.</summary>
    private async Task CloseAfterAsync(string connectionId, IEnumerable<Task> written)
    {
        await Task.WhenAll(written).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_connections.TryGetValue(connectionId, out var connection) && connection.RequestClose is { } requestClose)
        {
            requestClose();
            await Task.Delay(Timeout.InfiniteTimeSpan, connection.Closed).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Called by a subscription's pump when it stops, whatever the reason (a no-op when already removed).</summary>
    internal void Forget(DeliveryStage subscription)
    {
        if (_byId.TryRemove(new KeyValuePair<string, DeliveryStage>(subscription.Id, subscription)))
        {
            ForgetOnConnection(subscription);
        }
    }

    /// <summary>Frees the subscription's id on its connection, unless a newer subscription holds it already.</summary>
    private void ForgetOnConnection(ISubscription subscription)
    {
        if (_byConnection.TryGetValue(subscription.ConnectionId, out var mine))
        {
            lock (mine.Gate)
            {
                if (mine.Live.TryGetValue(subscription.WireId, out var live) && ReferenceEquals(live, subscription))
                {
                    mine.Live.Remove(subscription.WireId);
                }
            }
        }
    }

    /// <summary>A connection's live subscriptions by their id on it, read and written under <see cref="Gate"/> (which
    /// also makes creating one a single step). A plain dictionary sized for one: most connections hold one or two.</summary>
    private sealed class ConnectionSubscriptions
    {
        public Lock Gate { get; } = new();

        public Dictionary<string, ISubscription> Live { get; } = new(1, StringComparer.Ordinal);
    }

    private static string NewId() => "sub_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10));
}
