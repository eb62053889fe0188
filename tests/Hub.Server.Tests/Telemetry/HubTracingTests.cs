using System.Diagnostics;
using System.Text;
using Hub.Server.Telemetry;

namespace Hub.Server.Tests.Telemetry;

public sealed class HubTracingTests
{
    [Fact]
    public void TryReadTraceParent_ReadsTheEnvelopesHeader_NotOneInData()
    {
        var envelope = Encoding.UTF8.GetBytes("""{"sequence":1,"topic":"a","data":{"headers":{"traceparent":"00-11111111111111111111111111111111-2222222222222222-01"}},"headers":{"x":"y","traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}""");
        Assert.True(HubTracing.TryReadTraceParent(envelope, out var context));
        Assert.Equal(("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", ActivityTraceFlags.Recorded), (context.TraceId.ToHexString(), context.SpanId.ToHexString(), context.TraceFlags));
    }

    [Theory]
    [InlineData("""{"sequence":1,"topic":"a","data":{"headers":{"traceparent":"00-11111111111111111111111111111111-2222222222222222-01"}},"headers":null}""")]
    [InlineData("""{"sequence":1,"topic":"a","data":null,"headers":{"traceparent":"not a trace context"}}""")]
    [InlineData("""{"sequence":1,"topic":"a","data":null,"headers":{"h":"v"}}""")]
    public void TryReadTraceParent_WithoutAValidHeader_FindsNothing(string json) =>
        Assert.False(HubTracing.TryReadTraceParent(Encoding.UTF8.GetBytes(json), out _));

    [Fact]
    public void LogEntry_TryGetTraceContext_AnswersTheEnvelopesTraceparent_AndNothingWithoutOne()
    {
        var traced = new Hub.Log.LogEntry(1, "a", null, null, null, DateTimeOffset.UnixEpoch, Encoding.UTF8.GetBytes("""{"sequence":1,"topic":"a","data":null,"headers":{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}"""));
        var plain = new Hub.Log.LogEntry(2, "a", null, null, null, DateTimeOffset.UnixEpoch, Encoding.UTF8.GetBytes("""{"sequence":2,"topic":"a","data":null,"headers":null}"""));
        for (var i = 0; i < 2; i++) // read, then kept
        {
            Assert.True(traced.TryGetTraceContext(out var context));
            Assert.Equal("b7ad6b7169203331", context.SpanId.ToHexString());
            Assert.False(plain.TryGetTraceContext(out _));
        }
    }
}
