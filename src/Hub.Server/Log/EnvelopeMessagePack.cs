using System.Buffers;
using System.Text.Json;
using Hub.Protocol;
using MessagePack;

namespace Hub.Server.Log;

/// <summary>An envelope in MessagePack: the same fields and values as its JSON (<see cref="LogEntry.Json"/>), converted
/// once per entry, the first time a MessagePack subscriber is sent it (<see cref="LogEntry.MessagePack"/>).</summary>
internal static class EnvelopeMessagePack
{
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
