using System.Text;
using Hub.Server.Subscriptions;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace Hub.Server.Hubs;

/// <summary>
/// SignalR's JSON hub protocol with <c>events</c> written in one piece (<see cref="EventsFrameProtocol"/>):
/// <c>{"type":1,"target":"events","arguments":["&lt;id&gt;",[&lt;envelope&gt;,…]]}</c> and the record separator 0x1E, as
/// <see cref="JsonHubProtocol"/> writes it (no whitespace; the id needs no escaping).
/// </summary>
internal sealed class JsonEventsFrameProtocol(JsonHubProtocol json) : EventsFrameProtocol(json)
{
    private static ReadOnlySpan<byte> Head => "{\"type\":1,\"target\":\"events\",\"arguments\":[\""u8;

    private static ReadOnlySpan<byte> AfterId => "\","u8;

    private static ReadOnlySpan<byte> Tail => "]}\u001e"u8;

    protected override int Size(string subscriptionId, EventBatch batch) =>
        Head.Length + subscriptionId.Length + AfterId.Length + batch.JsonLength + Tail.Length;

    protected override int Write(string subscriptionId, EventBatch batch, int size, Span<byte> destination)
    {
        Head.CopyTo(destination);
        var written = Head.Length;
        written += Encoding.ASCII.GetBytes(subscriptionId, destination[written..]);
        AfterId.CopyTo(destination[written..]);
        written += AfterId.Length;
        written += batch.WriteJson(destination[written..]);
        Tail.CopyTo(destination[written..]);
        return written + Tail.Length;
    }
}
