using System.Text;
using System.Text.Json;
using Hub.Protocol;
using MessagePack;

namespace Hub.Server.Tests.Infrastructure;

/// <summary>Splits what a <see cref="FrameSocket"/> receives into the hub protocol's records: the handshake's answer
/// (JSON, ended by 0x1E), then records ended by 0x1E (JSON) or led by their length as a varint (MessagePack).</summary>
public sealed class HubRecordReader(FrameSocket socket, bool binary)
{
    private int _next;
    private bool _handshook;

    /// <summary>The next whole record's bounds in <see cref="FrameSocket.Received"/>, reading frames until there is one.</summary>
    public async Task<(int Start, int End)> NextAsync(CancellationToken cancellationToken)
    {
        for (var reads = 0; reads < 10_000; reads++)
        {
            if (TryTake(out var record))
            {
                return record;
            }

            await socket.ReadFrameAsync(cancellationToken);
        }

        throw new InvalidDataException("No whole record in 10,000 frames.");
    }

    /// <summary>A record ended by 0x1E (the handshake's answer, a JSON record), as text without its end.</summary>
    public string Text((int Start, int End) record) => Encoding.UTF8.GetString(Bytes(record).AsSpan()[..^1]);

    /// <summary>A hub message: its type; for an invocation its target and, for <c>events</c>, the subscription id and the
    /// envelopes; for a completion its result (undefined when it failed).</summary>
    public (int Type, string? Target, string? SubscriptionId, JsonElement Envelopes, JsonElement Result, string Raw) Decode((int Start, int End) record)
    {
        JsonElement root;
        if (binary)
        {
            var bytes = Bytes(record);
            var prefix = 1;
            while ((bytes[prefix - 1] & 0x80) != 0)
            {
                prefix++; // the length's varint: a byte with its high bit set has another after it
            }

            var reader = new MessagePackReader(bytes.AsMemory(prefix));
            root = JsonElementFormatter.Instance.Deserialize(ref reader, MessagePackSerializerOptions.Standard);

            // [type, headers, invocationId, target, arguments, streamIds] or [3, headers, invocationId, resultKind, result?]
            var type = root[0].GetInt32();
            return type switch
            {
                1 => (1, root[3].GetString(), root[4][0].GetString(), root[4][1], default, root.GetRawText()),
                3 => (3, null, null, default, root.GetArrayLength() == 5 && root[3].GetInt32() == 3 ? root[4] : default, root.GetRawText()),
                _ => (type, null, null, default, default, root.GetRawText()),
            };
        }

        root = JsonDocument.Parse(Bytes(record).AsMemory()[..^1]).RootElement;
        var jsonType = root.GetProperty("type").GetInt32();
        return jsonType switch
        {
            1 => (1, root.GetProperty("target").GetString(), root.GetProperty("arguments")[0].GetString(), root.GetProperty("arguments")[1], default, root.GetRawText()),
            3 => (3, null, null, default, root.TryGetProperty("result", out var result) ? result : default, root.GetRawText()),
            _ => (jsonType, null, null, default, default, root.GetRawText()),
        };
    }

    private byte[] Bytes((int Start, int End) record) => socket.Received.Skip(record.Start).Take(record.End - record.Start).ToArray();

    private bool TryTake(out (int Start, int End) record)
    {
        var received = socket.Received;
        record = default;
        if (!binary || !_handshook)
        {
            for (var i = _next; i < received.Count; i++)
            {
                if (received[i] == 0x1e)
                {
                    record = (_next, i + 1);
                    _next = i + 1;
                    _handshook = true;
                    return true;
                }
            }

            return false;
        }

        // A varint of up to 5 bytes, 7 bits each, low bits first.
        var length = 0;
        var position = _next;
        for (var shift = 0; ; shift += 7)
        {
            if (position >= received.Count || shift > 28)
            {
                return false;
            }

            var b = received[position++];
            length |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                break;
            }
        }

        if (received.Count - position < length)
        {
            return false;
        }

        record = (_next, position + length);
        _next = position + length;
        return true;
    }
}
