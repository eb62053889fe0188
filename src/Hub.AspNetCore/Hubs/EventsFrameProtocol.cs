using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Hub.Server.Subscriptions;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace Hub.Server.Hubs;

/// <summary>
/// One of SignalR's hub protocols with one message written in one piece: <c>events(subscriptionId, batch)</c>. Its exact
/// size is computed first, then it is written into ONE span of the output (<c>GetSpan(size)</c>, <c>Advance(size)</c>),
/// with the same bytes the wrapped protocol writes; everything else (parsing, every other message) is the wrapped
/// protocol's.
/// </summary>
/// <remarks>
/// Why: SignalR's WebSocket transport sends one frame per segment of the connection's pipe, and that pipe is made of
/// Kestrel's 4 KiB blocks, which the wrapped protocols fill a block at a time; an <c>events</c> message of 100 events
/// (~17 KB, up to <c>Hub:Subscriptions:MaxBatchBytes</c>) went out as 5 frames or more, each with its own send lock,
/// copy, write and flush. A pipe asked for more than its pool's block size takes one contiguous buffer from the array
/// pool, so the message is one segment and one frame. Only a message written exactly as <see cref="Hubs.SignalRSubscriberChannel"/>
/// sends it is taken (no invocation id, headers or stream ids; an id the contract allows, which JSON writes unescaped);
/// any other goes to the wrapped protocol, unchanged.
/// </remarks>
internal abstract class EventsFrameProtocol(IHubProtocol inner) : IHubProtocol
{
    /// <summary>The client method a batch of events is sent to.</summary>
    public const string Target = "events";

    /// <summary>The protocol this one writes like (and hands everything else to).</summary>
    public IHubProtocol Inner => inner;

    public string Name => inner.Name;

    public int Version => inner.Version;

    public TransferFormat TransferFormat => inner.TransferFormat;

    public bool IsVersionSupported(int version) => inner.IsVersionSupported(version);

    public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [NotNullWhen(true)] out HubMessage? message) =>
        inner.TryParseMessage(ref input, binder, out message);

    public void WriteMessage(HubMessage message, IBufferWriter<byte> output)
    {
        if (!TryGetEvents(message, out var subscriptionId, out var batch))
        {
            inner.WriteMessage(message, output);
            return;
        }

        var size = Size(subscriptionId, batch);
        var written = Write(subscriptionId, batch, size, output.GetSpan(size));
        Debug.Assert(written == size, "the events message's size was computed exactly");
        output.Advance(written);
    }

    public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message)
    {
        if (!TryGetEvents(message, out var subscriptionId, out var batch))
        {
            return inner.GetMessageBytes(message);
        }

        var bytes = new byte[Size(subscriptionId, batch)];
        var written = Write(subscriptionId, batch, bytes.Length, bytes);
        Debug.Assert(written == bytes.Length, "the events message's size was computed exactly");
        return bytes;
    }

    /// <summary>The bytes of the whole record of <c>events(subscriptionId, batch)</c>, framing included.</summary>
    protected abstract int Size(string subscriptionId, EventBatch batch);

    /// <summary>Writes the record, <paramref name="size"/> bytes (what <see cref="Size"/> said), into <paramref name="destination"/>;
    /// returns the bytes written.</summary>
    protected abstract int Write(string subscriptionId, EventBatch batch, int size, Span<byte> destination);

    /// <summary>Whether <paramref name="message"/> is an <c>events</c> invocation as the hub sends it. The id must be one
    /// the contract allows (<see cref="SubscribeRequest.IsValidId"/>: ASCII, nothing JSON escapes), which every id the
    /// hub hands out is.</summary>
    private static bool TryGetEvents(HubMessage message, [NotNullWhen(true)] out string? subscriptionId, [NotNullWhen(true)] out EventBatch? batch)
    {
        if (message is InvocationMessage { Target: Target, StreamIds: null, Arguments: [string id, EventBatch events] } invocation
            && string.IsNullOrEmpty(invocation.InvocationId)
            && invocation.Headers is null or { Count: 0 }
            && SubscribeRequest.IsValidId(id))
        {
            subscriptionId = id;
            batch = events;
            return true;
        }

        subscriptionId = null;
        batch = null;
        return false;
    }
}
