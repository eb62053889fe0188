using System.Buffers;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Hub.Log;
using Hub.Server.Api;
using Hub.Server.Publishing;

namespace Hub.Benchmarks;

/// <summary>
/// The publish request's own pieces, for batches of 10 and 50 events of ~200 bytes (or of ~50, the load generator's,
/// with <see cref="PadBytes"/> 0): parsing and validating the body
/// into drafts (<see cref="PublishRequestParser"/>), and writing the 202 body, by <see cref="PublishAccepted"/>'s
/// writer beside the serializer writing the same <see cref="PublishResponse"/> as the endpoint did before (the
/// reference, with the API's camelCase options).
/// </summary>
[MemoryDiagnoser]
public class PublishRequestBenchmarks
{
    private static readonly JsonSerializerOptions ApiJson = new(JsonSerializerDefaults.Web);
    private readonly PublishRequestParser _parser = new(maxBatchEvents: 1000);
    private readonly ArrayBufferWriter<byte> _output = new(8 * 1024);
    private byte[] _body = null!;
    private AppendedEvent[] _appended = null!;

    /// <summary>Events per request.</summary>
    [Params(10, 50)]
    public int Batch { get; set; }

    /// <summary>Padding in each event's data: 150 makes events of ~200 bytes; 0, the load generator's (<c>{"t":…}</c>).</summary>
    [Params(0, 150)]
    public int PadBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var padding = PadBytes == 0 ? "" : ",\"pad\":\"" + new string('x', PadBytes) + "\"";
        _body = Encoding.UTF8.GetBytes("[" + string.Join(',', Enumerable.Range(0, Batch).Select(i => $$$"""{"topic":"bench.load","data":{"t":{{{638000000000000 + i}}}{{{padding}}}}}""")) + "]");
        _appended = Enumerable.Range(0, Batch).Select(i => new AppendedEvent(1_000_000 + i, "bench.load", i % 2 == 0 ? null : $"id-{i}", Duplicate: false)).ToArray();
    }

    [Benchmark]
    public int Parse()
    {
        var result = _parser.Parse(_body);
        return result.Drafts!.Count;
    }

    [Benchmark]
    public int AcceptedBody()
    {
        _output.ResetWrittenCount();
        PublishAccepted.Write(_appended, _output);
        return _output.WrittenCount;
    }

    [Benchmark(Baseline = true)]
    public int AcceptedBody_Serializer()
    {
        _output.ResetWrittenCount();
        var events = new PublishedEvent[_appended.Length];
        for (var i = 0; i < events.Length; i++)
        {
            var a = _appended[i];
            events[i] = new PublishedEvent(a.Sequence, a.Topic, a.Id, a.Duplicate);
        }

        using var writer = new Utf8JsonWriter(_output);
        JsonSerializer.Serialize(writer, new PublishResponse(events), ApiJson);
        return _output.WrittenCount;
    }
}
