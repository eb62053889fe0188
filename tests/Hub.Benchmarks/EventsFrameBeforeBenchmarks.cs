using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Json.Serialization;
using BenchmarkDotNet.Attributes;
using Hub.Log;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Hub.Benchmarks;

/// <summary>
/// The reference for <see cref="EventsFrameBenchmarks"/>' JSON rows: the <c>events</c> message as the hub wrote it
/// before the one-piece writer, SignalR's JSON protocol with the batch's converter copying each envelope with its own
/// <c>WriteRawValue</c> (so the writer asked the pipe for room an envelope at a time and filled block after block), in
/// the same Kestrel pipe, read out the same way.
/// </summary>
[MemoryDiagnoser]
public class EventsFrameBeforeBenchmarks
{
    private static readonly JsonHubProtocol Json = new(Options.Create(new JsonHubProtocolOptions { PayloadSerializerOptions = new(JsonSerializerDefaults.Web) }));
    private WebApplication _app = null!;
    private MemoryPool<byte> _pool = null!;
    private Pipe _pipe = null!;
    private List<LogEntry> _entries = null!;
    private readonly byte[] _frame = new byte[256 * 1024];

    /// <summary>Envelopes in the message.</summary>
    [Params(10, 100)]
    public int Events { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _app = WebApplication.CreateSlimBuilder().Build();
        _pool = _app.Services.GetRequiredService<IMemoryPoolFactory<byte>>().Create();
        _pipe = new Pipe(new PipeOptions(_pool, PipeScheduler.Inline, PipeScheduler.Inline, pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false));
        _entries = EventsFrameBenchmarks.Entries(Events);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pool.Dispose();
        _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark]
    public int EntryByEntry()
    {
        Json.WriteMessage(new InvocationMessage("events", ["sub_0f1e2d3c4b5a69788796", new EntryByEntryBatch(_entries)]), _pipe.Writer);
        _pipe.Writer.FlushAsync().GetAwaiter().GetResult();
        if (!_pipe.Reader.TryRead(out var result))
        {
            throw new InvalidOperationException("The message was not in the pipe.");
        }

        var segments = 0;
        foreach (var segment in result.Buffer)
        {
            segment.Span.CopyTo(_frame);
            segments++;
        }

        _pipe.Reader.AdvanceTo(result.Buffer.End);
        return segments;
    }

    /// <summary>The batch's JSON converter as it was: one raw value per envelope.</summary>
    [JsonConverter(typeof(Converter))]
    private sealed class EntryByEntryBatch(List<LogEntry> entries)
    {
        public List<LogEntry> Entries { get; } = entries;

        private sealed class Converter : JsonConverter<EntryByEntryBatch>
        {
            public override EntryByEntryBatch Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
                throw new NotSupportedException();

            public override void Write(Utf8JsonWriter writer, EntryByEntryBatch value, JsonSerializerOptions options)
            {
                writer.WriteStartArray();
                foreach (var entry in value.Entries)
                {
                    writer.WriteRawValue(entry.Json, skipInputValidation: true);
                }

                writer.WriteEndArray();
            }
        }
    }
}
