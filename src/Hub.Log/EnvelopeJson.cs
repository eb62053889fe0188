using System.Buffers.Text;
using System.Diagnostics;
using System.Text;

namespace Hub.Log;

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

    private static readonly byte[] HeadersMember = "\"headers\":"u8.ToArray();
    private static readonly byte[] TraceParentMember = "\"traceparent\":\""u8.ToArray();

    /// <summary>
    /// Reads the <c>traceparent</c> header from an envelope's JSON without parsing the rest (once per entry: see
    /// <see cref="LogEntry.TryGetTraceContext"/>): <c>headers</c> is the
    /// envelope's last member, so its last occurrence is the envelope's own (not a member of <c>data</c>).
    /// </summary>
    public static bool TryReadTraceParent(ReadOnlySpan<byte> envelope, out ActivityContext context)
    {
        context = default;
        var headers = envelope.LastIndexOf(HeadersMember);
        if (headers < 0)
        {
            return false;
        }

        var rest = envelope[(headers + HeadersMember.Length)..];
        var member = rest.IndexOf(TraceParentMember);
        if (member < 0)
        {
            return false;
        }

        var value = rest[(member + TraceParentMember.Length)..];
        var end = value.IndexOf((byte)'"');
        return end is > 0 and <= 128
            && ActivityContext.TryParse(Encoding.UTF8.GetString(value[..end]), traceState: null, isRemote: true, out context);
    }
}
