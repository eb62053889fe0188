using System.Buffers.Text;

namespace Hub.Server.Log;

/// <summary>The one place an event's envelope JSON is finished: <c>{"sequence":N,</c> followed by the draft's members.</summary>
internal static class EnvelopeJson
{
    public static byte[] Compose(long sequence, byte[] body)
    {
        ReadOnlySpan<byte> prefix = "{\"sequence\":"u8;
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(sequence, digits, out var digitCount);
        var empty = body.Length == 2; // "{}"
        var json = new byte[prefix.Length + digitCount + (empty ? 0 : 1) + body.Length - 1];
        var span = json.AsSpan();
        prefix.CopyTo(span);
        span = span[prefix.Length..];
        digits[..digitCount].CopyTo(span);
        span = span[digitCount..];
        if (!empty)
        {
            span[0] = (byte)',';
            span = span[1..];
        }

        body.AsSpan(1).CopyTo(span);
        return json;
    }
}
