using System.Text;
using System.Threading.Channels;
using Hub.Log;
using Hub.Server.Subscriptions;
using Hub.Server.Telemetry;
using Hub.Stages.Subscriptions;
using Microsoft.Extensions.Logging;

namespace Hub.Server.Groups;

/// <summary>
/// A subscription that is a member of a <see cref="Group"/>: its events are the share the group's dispatcher hands it,
/// within its credits; <see cref="Ask"/> also acknowledges its oldest events in flight. It writes to its own connection
/// from its own outbox, so a member whose socket is slow holds only itself (and, in a partition group, its partitions).
/// </summary>
/// <remarks>
/// The outbox is bounded by the member's credits (each event in it used one) and by bytes: the group hands it no more
/// while what it holds unsent reaches <c>Hub:Subscriptions:MaxBatchBytes</c> (<see cref="HasRoom"/>), and each batch
/// stops growing at that size. A member whose socket stops taking data is blocked in a write; with
/// <c>overflow: "disconnect"</c> the <see cref="StalledSubscriptionSweeper"/> ends it as it ends any subscriber, and what
/// it held goes to the other members.
/// </remarks>
public sealed partial class GroupMember : ISubscription
{
    private static readonly byte[] RedeliveredSuffix = Encoding.UTF8.GetBytes(",\"redelivered\":true}");
    private readonly Group _group;
    private readonly ISubscriberChannel _channel;
    private readonly HubMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Action<GroupMember> _onStopped;
    private readonly Action<GroupMember> _leave;
    private readonly Channel<object> _outbox = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _aborted = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Ending? _ending; // set once: the reason, and whether to tell the client
    private long _delivered;
    private long _dropped;
    private int _buffered;
    private long _unsentBytes; // the JSON of the events posted to the outbox and not yet written

    internal GroupMember(string id, string wireId, string connectionId, SubscribeRequest request, Group group, ISubscriberChannel channel, HubMetrics metrics, ILogger logger, Action<GroupMember> leave, Action<GroupMember> stopped)
    {
        _leave = leave;
        Id = id;
        WireId = wireId;
        ConnectionId = connectionId;
        Request = request;
        _group = group;
        _channel = channel;
        _metrics = metrics;
        _logger = logger;
        _onStopped = stopped;
        JoinedAt = group.Position;
    }

    /// <inheritdoc />
    public string Id { get; }

    /// <inheritdoc />
    public string WireId { get; }

    /// <inheritdoc />
    public string ConnectionId { get; }

    /// <inheritdoc />
    public SubscribeRequest Request { get; }

    /// <summary>The group's name.</summary>
    public string GroupName => _group.Name;

    /// <summary>How the group shares its events.</summary>
    public GroupDispatchMode Dispatch => _group.Mode;

    /// <summary>The group's acknowledged position when this member joined (what <c>Subscribe</c> answers).</summary>
    public long JoinedAt { get; }

    /// <inheritdoc />
    public long Credits => _group.Describe(this).Credits;

    /// <summary>Events handed to this member and not yet acknowledged.</summary>
    public int InFlight => _group.Describe(this).InFlight;

    /// <inheritdoc />
    public int Buffered => Volatile.Read(ref _buffered);

    /// <inheritdoc />
    public long Cursor => _group.Position;

    /// <inheritdoc />
    public long Lag => _group.Lag;

    /// <inheritdoc />
    public long Delivered => Volatile.Read(ref _delivered);

    /// <inheritdoc />
    public long Dropped => Volatile.Read(ref _dropped);

    /// <inheritdoc />
    public string? EndReason => Volatile.Read(ref _ending)?.Reason;

    /// <inheritdoc />
    public Task Completion => _stopped.Task;

    internal Group Group => _group;

    /// <inheritdoc />
    public void Start()
    {
        if (EndReason is null)
        {
            _group.Activate(this, Request.Demand == DemandMode.Automatic ? Request.MaxDemand : 0);
        }

        _ = Task.Run(SendAsync);
    }

    /// <inheritdoc />
    public void Ask(long n) => _group.Ask(this, n);

    /// <inheritdoc />
    public void End(string reason, bool notify)
    {
        if (Interlocked.CompareExchange(ref _ending, new Ending(reason, notify), null) is not null)
        {
            return;
        }

        if (!notify)
        {
            _aborted.Cancel();
        }

        // What it held goes back to the group (to the other members, marked redelivered); what is still in the outbox is
        // not sent.
        _leave(this);
        _outbox.Writer.TryComplete();
    }

    /// <summary>Whether the group may hand this member more now: what its outbox holds unsent is under a batch's worth of bytes.</summary>
    internal bool HasRoom => Volatile.Read(ref _unsentBytes) < _group.MaxBatchBytes;

    /// <summary>Queues a batch the dispatcher handed to this member (called under the group's lock; never blocks).</summary>
    internal void Post(List<GroupItem> batch)
    {
        Interlocked.Add(ref _buffered, batch.Count);
        Interlocked.Add(ref _unsentBytes, BytesOf(batch));
        _outbox.Writer.TryWrite(batch);
    }

    /// <summary>Queues a gap notice, in order with the batches.</summary>
    internal void PostGap(GapNotice gap) => _outbox.Writer.TryWrite(gap);

    private async Task SendAsync()
    {
        var token = _aborted.Token;
        var entries = new List<LogEntry>();
        try
        {
            await foreach (var item in _outbox.Reader.ReadAllAsync(token).ConfigureAwait(false))
            {
                if (item is GapNotice gap)
                {
                    await _channel.SendGapAsync(ConnectionId, WireId, gap, token).ConfigureAwait(false);
                    Interlocked.Add(ref _dropped, gap.To - gap.From + 1);
                    _metrics.RecordDropped(gap.To - gap.From + 1, gap.Reason);
                    continue;
                }

                var batch = (List<GroupItem>)item;
                if (Volatile.Read(ref _ending) is not null)
                {
                    Interlocked.Add(ref _buffered, -batch.Count); // already handed back to the group
                    Interlocked.Add(ref _unsentBytes, -BytesOf(batch));
                    continue;
                }

                entries.Clear();
                foreach (var groupItem in batch)
                {
                    entries.Add(groupItem.Redelivered ? MarkRedelivered(groupItem.Entry) : groupItem.Entry);
                }

                await _channel.SendEventsAsync(ConnectionId, WireId, entries, token).ConfigureAwait(false);
                Interlocked.Add(ref _delivered, batch.Count);
                Interlocked.Add(ref _buffered, -batch.Count);
                Interlocked.Add(ref _unsentBytes, -BytesOf(batch));
                _metrics.RecordDelivered(batch.Count);
                _group.MemberHasRoom(); // the group may have held events back for this member
            }

            if (Volatile.Read(ref _ending) is { Notify: true } ending)
            {
                await _channel.SendEndedAsync(ConnectionId, WireId, new EndedNotice(ending.Reason), token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Ended without notice while a write was pending.
        }
        catch (Exception ex)
        {
            // Logged, ended (what it held goes to the other members) and told so, if its connection still takes it.
            Log.SendFailed(_logger, ex, Id, ConnectionId);
            End("error", notify: true);
            if (Volatile.Read(ref _ending) is { Notify: true } ending
                && await _channel.TrySendEndedAsync(ConnectionId, WireId, ending.Reason, token).ConfigureAwait(false) is { } notSent)
            {
                Log.EndedNotSent(_logger, notSent, Id, ConnectionId);
            }
        }
        finally
        {
            _onStopped(this);
            _stopped.TrySetResult();
        }
    }

    private static long BytesOf(List<GroupItem> batch)
    {
        long bytes = 0;
        foreach (var item in batch)
        {
            bytes += item.Entry.Json.Length;
        }

        return bytes;
    }

    /// <summary>The envelope with <c>"redelivered": true</c> added (a copy: the log's bytes are shared by every reader).</summary>
    private static LogEntry MarkRedelivered(LogEntry entry)
    {
        var json = entry.Json;
        var marked = new byte[json.Length - 1 + RedeliveredSuffix.Length];
        json.AsSpan(0, json.Length - 1).CopyTo(marked);
        RedeliveredSuffix.CopyTo(marked.AsSpan(json.Length - 1));
        return new LogEntry(entry.Sequence, entry.Topic, entry.Type, entry.Id, entry.Key, entry.Time, marked);
    }

    private sealed record Ending(string Reason, bool Notify);

    private static partial class Log
    {
        [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "Group member {SubscriptionId} on connection {ConnectionId} failed to send; it is ended and its client told ended {{reason: error}}")]
        public static partial void SendFailed(ILogger logger, Exception exception, string subscriptionId, string connectionId);

        [LoggerMessage(EventId = 4102, Level = LogLevel.Debug, Message = "Group member {SubscriptionId} on connection {ConnectionId}: its ended notice could not be sent")]
        public static partial void EndedNotSent(ILogger logger, Exception exception, string subscriptionId, string connectionId);
    }
}
