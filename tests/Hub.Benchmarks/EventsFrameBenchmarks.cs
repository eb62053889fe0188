using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using BenchmarkDotNet.Attributes;
using Hub.Log;
using Hub.Server;
using Hub.Server.Hubs;
using Hub.Server.Protocol;
using Hub.Server.Subscriptions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Benchmarks;

/// <summary>
/// One <c>events</c> message of <see cref="Events"/> envelopes (~170 bytes each, ~17 KB for 100) written into a pipe of
/// Kestrel's own 4 KiB blocks, as SignalR writes to a connection, then read out segment by segment as its WebSocket
/// transport does (each segment copied out, one frame each): SignalR's protocol (<see cref="Wrapped"/>, the baseline)
/// beside the hub's one-piece writer (<see cref="Wrapper"/>, <see cref="EventsFrameProtocol"/>). The protocols are the
/// hub's (AddHub's registrations); each envelope's MessagePack is made in the setup, as the hub makes it once per entry.
/// </summary>
[MemoryDiagnoser]
public class EventsFrameBenchmarks
{
    private const string SubscriptionId = "sub_0f1e2d3c4b5a69788796";
    private WebApplication _app = null!;
    private MemoryPool<byte> _pool = null!;
    private Pipe _pipe = null!;
    private EventsFrameProtocol _wrapper = null!;
    private List<LogEntry> _entries = null!;
    private readonly byte[] _frame = new byte[256 * 1024];

    /// <summary>Envelopes in the message.</summary>
    [Params(10, 100)]
    public int Events { get; set; }

    /// <summary>The hub protocol's name.</summary>
    [Params("json", "messagepack")]
    public string Protocol { get; set; } = "json";

    /// <summary>Segments the last message was read out in (one WebSocket frame each).</summary>
    public int LastSegments { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        _app = WebApplication.CreateSlimBuilder().Build();
        _pool = _app.Services.GetRequiredService<IMemoryPoolFactory<byte>>().Create();
        _pipe = new Pipe(new PipeOptions(_pool, PipeScheduler.Inline, PipeScheduler.Inline, pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false));
        var protocols = new ServiceCollection().AddLogging().AddHub(new ConfigurationBuilder().Build()).Services
            .BuildServiceProvider().GetRequiredService<IHubProtocolResolver>();
        _wrapper = (EventsFrameProtocol)protocols.GetProtocol(Protocol, null)!;
        _entries = Entries(Events);
        foreach (var entry in _entries)
        {
            entry.MessagePack();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pool.Dispose();
        _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true)]
    public int Wrapped() => WriteAndReadOut(_wrapper.Inner);

    [Benchmark]
    public int Wrapper() => WriteAndReadOut(_wrapper);

    /// <summary>Envelopes of ~170 bytes, as the log holds them.</summary>
    internal static List<LogEntry> Entries(int count) =>
        Enumerable.Range(1, count).Select(i => new LogEntry(1_000_000 + i, "bench.load", "order.created", null, null, DateTimeOffset.UnixEpoch,
            EnvelopeJson.Compose(1_000_000 + i, Encoding.UTF8.GetBytes(
                $$"""{"topic":"bench.load","type":"order.created","id":null,"key":null,"time":"2026-12-08T10:30:00.123Z","data":{"t":{{638000000000000 + i}},"pad":""},"headers":null}""")))).ToList();

    private int WriteAndReadOut(IHubProtocol protocol)
    {
        // As DefaultHubLifetimeManager makes it from SendAsync("events", id, batch), and as HubConnectionContext writes it.
        protocol.WriteMessage(new InvocationMessage("events", [SubscriptionId, new EventBatch(_entries)]), _pipe.Writer);
        _pipe.Writer.FlushAsync().GetAwaiter().GetResult();
        if (!_pipe.Reader.TryRead(out var result))
        {
            throw new InvalidOperationException("The message was not in the pipe.");
        }

        var buffer = result.Buffer;
        var segments = 0;
        foreach (var segment in buffer)
        {
            segment.Span.CopyTo(_frame);
            segments++;
        }

        _pipe.Reader.AdvanceTo(buffer.End);
        LastSegments = segments;
        return segments;
    }
}
