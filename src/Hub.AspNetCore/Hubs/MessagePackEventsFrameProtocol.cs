using System.Diagnostics;
using System.Text;
using Hub.Server.Protocol;
using Hub.Server.Subscriptions;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace Hub.Server.Hubs;

/// <summary>
/// SignalR's MessagePack hub protocol with <c>events</c> written in one piece (<see cref="EventsFrameProtocol"/>): the
/// record's length as a varint (7 bits a byte, low first), then the invocation as <see cref="MessagePackHubProtocol"/>
/// writes it: <c>[1, {}, nil, "events", [id, [envelope…]], []]</c>, each envelope its MessagePack bytes.
/// </summary>
internal sealed class MessagePackEventsFrameProtocol(MessagePackHubProtocol messagePack) : EventsFrameProtocol(messagePack)
{
    // array of 6, type 1 (Invocation), no headers (an empty map), no invocation id (nil), the target, array of 2 arguments
    private static ReadOnlySpan<byte> Head => [0x96, 0x01, 0x80, 0xc0, 0xa6, (byte)'e', (byte)'v', (byte)'e', (byte)'n', (byte)'t', (byte)'s', 0x92];

    // no stream ids (an empty array)
    private const byte Tail = 0x90;

    protected override int Size(string subscriptionId, EventBatch batch)
    {
        // The id is ASCII: as many bytes as characters.
        var body = Head.Length + MessagePackHeaders.StringHeaderLength(subscriptionId.Length) + subscriptionId.Length + batch.MessagePackLength + 1;
        return PrefixLength(body) + body;
    }

    protected override int Write(string subscriptionId, EventBatch batch, int size, Span<byte> destination)
    {
        var written = WritePrefix(destination, BodyLength(size));
        Head.CopyTo(destination[written..]);
        written += Head.Length;
        written += MessagePackHeaders.WriteStringHeader(destination[written..], subscriptionId.Length);
        written += Encoding.ASCII.GetBytes(subscriptionId, destination[written..]);
        written += batch.WriteMessagePack(destination[written..]);
        destination[written++] = Tail;
        return written;
    }

    /// <summary>The bytes of the varint that says <paramref name="length"/>.</summary>
    private static int PrefixLength(int length)
    {
        var bytes = 1;
        while (length >= 0x80)
        {
            length >>= 7;
            bytes++;
        }

        return bytes;
    }

    /// <summary>The record's length without its prefix, from the whole size <see cref="Size"/> gave: the one split of
    /// <paramref name="size"/> into a prefix of n bytes (1 to 5) and a length that takes n bytes to say.</summary>
    private static int BodyLength(int size)
    {
        for (var prefix = 1; prefix <= 5; prefix++)
        {
            if (PrefixLength(size - prefix) == prefix)
            {
                return size - prefix;
            }
        }

        throw new UnreachableException($"{size} bytes is no length prefix and the length it says");
    }

    private static int WritePrefix(Span<byte> destination, int length)
    {
        var written = 0;
        while (length >= 0x80)
        {
            destination[written++] = (byte)(length | 0x80);
            length >>= 7;
        }

        destination[written++] = (byte)length;
        return written;
    }
}
