using System.Text;
using System.Threading.Channels;
using Hub.Log;
using Hub.Server.Subscriptions;
using Hub.Server.Telemetry;
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
/// <c>overflow: "disconnect"</c> it is a stalled stage like any other (<see cref="DeliveryStage.CheckStall"/>): it is
/// ended and its connection closed, and what it held goes to the other members. Its lifecycle (ending once, errors,
/// the <c>ended</c> notice) is <see cref="DeliveryStage"/>'s.
/// </remarks>
public sealed class GroupMember : DeliveryStage
{
    private static readonly byte[] RedeliveredSuffix = Encoding.UTF8.GetBytes(",\"redelivered\":true}");
    private readonly Group _group;
    private readonly Action<GroupMember> _leave;
    private readonly Channel<object> _outbox = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private long _unsentBytes; // the JSON of the events posted to the outbox and not yet written

    internal GroupMember(string id, string wireId, string connectionId, SubscribeRequest request, Group group, ISubscriberChannel channel, HubMetrics metrics, ILogger logger, Action<GroupMember> leave, Action<DeliveryStage> stopped)
        : base(id, wireId, connectionId, request, channel, metrics, logger, stopped)
    {
        _leave = leave;
        _group = group;
        JoinedAt = group.Position;
    }

    /// <summary>The group's name.</summary>
    public override string GroupName => _group.Name;

    /// <summary>How the group shares its events.</summary>
    public GroupDispatchMode Dispatch => _group.Mode;

    /// <summary>The group's acknowledged position when this member joined (what <c>Subscribe</c> answers).</summary>
    public long JoinedAt { get; }

    /// <inheritdoc />
    public override long Credits => _group.Describe(this).Credits;

    /// <summary>Events handed to this member and not yet acknowledged.</summary>
    public override int InFlight => _group.Describe(this).InFlight;

    /// <inheritdoc />
    public override long Cursor => _group.Position;

    /// <inheritdoc />
    public override long Lag => _group.Lag;

    internal Group Group => _group;

    private protected override string DispatchName => GroupInfo.DispatchName(Dispatch);

    private protected override string Kind => "group member";

    private protected override string ConsumerKind => "group";

    /// <inheritdoc />
    public override void Ask(long n) => _group.Ask(this, n);

    /// <summary>Whether the group may hand this member more now: what its outbox holds unsent is under a batch's worth of bytes.</summary>
    internal bool HasRoom => Volatile.Read(ref _unsentBytes) < _group.MaxBatchBytes;

    /// <summary>Queues a batch the dispatcher handed to this member (called under the group's lock; never blocks).</summary>
    internal void Post(List<GroupItem> batch)
    {
        AddBuffered(batch.Count);
        Interlocked.Add(ref _unsentBytes, BytesOf(batch));
        _outbox.Writer.TryWrite(batch);
    }

    /// <summary>Queues a gap notice, in order with the batches.</summary>
    internal void PostGap(GapNotice gap) => _outbox.Writer.TryWrite(gap);

    private protected override void OnStarting()
    {
        if (EndReason is null)
        {
            _group.Activate(this, Request.InitialCredits);
        }
    }

    private protected override void OnEnded()
    {
        // What it held goes back to the group (to the other members, marked redelivered); what is still in the outbox is
        // not sent.
        _leave(this);
        _outbox.Writer.TryComplete();
    }

    private protected override async Task PumpAsync(CancellationToken token)
    {
        var entries = new List<LogEntry>();
        await foreach (var item in _outbox.Reader.ReadAllAsync(token).ConfigureAwait(false))
        {
            if (item is GapNotice gap)
            {
                await SendGapAsync(gap, token).ConfigureAwait(false);
                continue;
            }

            var batch = (List<GroupItem>)item;
            if (IsEnding)
            {
                AddBuffered(-batch.Count); // already handed back to the group
                Interlocked.Add(ref _unsentBytes, -BytesOf(batch));
                continue;
            }

            entries.Clear();
            foreach (var groupItem in batch)
            {
                entries.Add(groupItem.Redelivered ? MarkRedelivered(groupItem.Entry) : groupItem.Entry);
            }

            await SendEventsAsync(entries, token).ConfigureAwait(false);
            AddBuffered(-batch.Count);
            Interlocked.Add(ref _unsentBytes, -BytesOf(batch));
            _group.MemberHasRoom(); // the group may have held events back for this member
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
}
