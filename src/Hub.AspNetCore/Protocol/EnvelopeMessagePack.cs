using System.Buffers;
using System.Text.Json;
using Hub.Protocol;
using MessagePack;

using Hub.Log;

namespace Hub.Server.Protocol;

/// <summary>An envelope in MessagePack: the same fields and values as its JSON (<see cref="LogEntry.Json"/>), converted
/// once per entry, the first time a MessagePack subscriber is sent it (<see cref="MessagePack"/>).</summary>
internal static class EnvelopeMessagePack
{
    /// <summary>The entry's envelope in MessagePack, converted once and kept with the entry.</summary>
    public static byte[] MessagePack(this LogEntry entry) => entry.GetMessagePack(FromJson);

    public static byte[] FromJson(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        var buffer = new ArrayBufferWriter<byte>(json.Length);
        var writer = new MessagePackWriter(buffer);
        JsonElementFormatter.Write(ref writer, document.RootElement);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}
