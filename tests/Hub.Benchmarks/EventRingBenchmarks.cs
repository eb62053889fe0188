using System.Text;
using BenchmarkDotNet.Attributes;
using Hub.Log;

namespace Hub.Benchmarks;

/// <summary>
/// The log's ring (<see cref="EventRing"/>): appending entries of about 200 bytes into a ring of 100,000 (wrapping
/// around), then reading them back in pages of 1,000 as a catching-up subscriber does, with every entry kept as an
/// object (<c>Hot</c> = the capacity, as before the cold segments) or only the newest 1,000 (the rest as bytes in
/// <see cref="EventSegments"/>, made into entries again when read). One operation is one entry appended and read.
/// </summary>
[MemoryDiagnoser]
public class EventRingBenchmarks
{
    private const int Capacity = 100_000;
    public const int Entries = 10_000;
    private byte[] _body = null!;
    private EventRing _ring = null!;
    private readonly List<LogEntry> _read = new(1000);
    private long _next;

    /// <summary>How many of the newest entries the ring keeps as objects.</summary>
    [Params(Capacity, 1_000)]
    public int Hot { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _body = Encoding.UTF8.GetBytes($"{{\"topic\":\"orders.eu\",\"type\":\"order.created\",\"time\":\"2026-01-01T00:00:00+00:00\",\"data\":\"{new string('x', 120)}\"}}");
        _ring = new EventRing(Capacity, Hot);
        _next = 0;
        // Full before measuring (its whole window as it would be in a running hub); then each operation wraps it further.
        for (var i = 0; i < Capacity; i++)
        {
            Append();
        }
    }

    private void Append()
    {
        var sequence = ++_next;
        _ring.Write(new LogEntry(sequence, "orders.eu", "order.created", null, null, DateTimeOffset.UnixEpoch, _body));
        _ring.Publish(sequence);
    }

    [Benchmark(OperationsPerInvoke = Entries)]
    public long AppendThenReadBack()
    {
        var from = _next;
        for (var i = 0; i < Entries; i++)
        {
            Append();
        }

        // Read from 50,000 behind the head: cold when only 1,000 are hot.
        var after = _next - Capacity / 2;
        var bytes = 0L;
        for (var read = 0; read < Entries; read += _read.Count)
        {
            _read.Clear();
            var result = _ring.Read(after, null, 1000, int.MaxValue, 1000, _read, CancellationToken.None);
            if (result.Truncated || _read.Count == 0)
            {
                throw new InvalidOperationException($"read after {after} (appended from {from}): truncated");
            }

            foreach (var entry in _read)
            {
                bytes += entry.Json.Length;
            }

            after = result.ScannedTo;
        }

        return bytes;
    }
}
