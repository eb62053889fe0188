using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Hub.LoadGen;

/// <summary>
/// One HTTP publisher: POSTs JSON arrays of events to <c>/api/events</c>, one request at a time. Each event's
/// <c>data</c> is <c>{"t": timestamp}</c>: at max rate the moment the request is built; at a fixed rate the moment the
/// event was due, so a publisher that falls behind shows it in the latency instead of hiding it. A 429 or 503 is
/// counted and waited out for its <c>Retry-After</c> (at most the time left).
/// </summary>
internal sealed class Publisher(HttpClient http, LoadOptions options, EventBudget budget)
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private readonly ArrayBufferWriter<byte> _body = new(16 * 1024);
    private readonly string _padding = new('x', options.PayloadBytes);

    /// <summary>Events the server answered 202 for.</summary>
    public long Acknowledged { get; private set; }

    public long Requests { get; private set; }

    /// <summary>429 and 503 answers (back-pressure).</summary>
    public long Rejected { get; private set; }

    /// <summary>Other failures (non-2xx answers, broken connections).</summary>
    public long Failed { get; private set; }

    /// <summary>Requests still unanswered when the grace after the duration ran out (cancelled).</summary>
    public long Unanswered { get; private set; }

    /// <summary>The <see cref="Stopwatch"/> timestamp of the last 202.</summary>
    public long LastAcknowledgedTimestamp { get; private set; }

    /// <param name="startTimestamp">The run's start (<see cref="Stopwatch"/>), where a fixed rate's schedule begins.</param>
    /// <param name="rate">This publisher's share of the fixed rate (events/s), 0 for max rate.</param>
    /// <param name="stop">Fires when the duration is over: no new request starts.</param>
    /// <param name="abort">Fires when the grace is over too: the request in flight is cancelled.</param>
    public async Task RunAsync(long startTimestamp, double rate, CancellationToken stop, CancellationToken abort)
    {
        var period = rate > 0 ? Stopwatch.Frequency / rate : 0;
        long scheduled = 0; // fixed rate: events taken from the schedule so far
        while (!stop.IsCancellationRequested)
        {
            int count;
            long firstStamp;
            double step;
            if (rate > 0)
            {
                var now = Stopwatch.GetTimestamp();
                var due = (long)((now - startTimestamp) / period) + 1 - scheduled;
                if (due <= 0)
                {
                    try
                    {
                        await Task.Delay(1, stop);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }

                    continue;
                }

                count = (int)Math.Min(due, options.Batch);
                firstStamp = startTimestamp + (long)(scheduled * period);
                step = period;
                scheduled += count;
            }
            else
            {
                count = options.Batch;
                firstStamp = Stopwatch.GetTimestamp();
                step = 0;
            }

            count = budget.Take(count);
            if (count == 0)
            {
                break;
            }

            WriteBody(count, firstStamp, step);
            if (!await PostAsync(count, stop, abort))
            {
                break;
            }
        }
    }

    private void WriteBody(int count, long firstStamp, double step)
    {
        _body.ResetWrittenCount();
        using var writer = new Utf8JsonWriter(_body);
        writer.WriteStartArray();
        for (var i = 0; i < count; i++)
        {
            writer.WriteStartObject();
            writer.WriteString("topic"u8, options.Topic);
            writer.WriteStartObject("data"u8);
            writer.WriteNumber("t"u8, firstStamp + (long)(i * step));
            if (options.PayloadBytes > 0)
            {
                writer.WritePropertyName("pad"u8);
                writer.WriteStringValue(_padding);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.Flush();
    }

    /// <returns>false when the run is over (aborted).</returns>
    private async Task<bool> PostAsync(int count, CancellationToken stop, CancellationToken abort)
    {
        using var content = new ReadOnlyMemoryContent(_body.WrittenMemory);
        content.Headers.ContentType = Json;
        Requests++;
        try
        {
            using var response = await http.PostAsync("api/events", content, abort);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                Acknowledged += count;
                LastAcknowledgedTimestamp = Stopwatch.GetTimestamp();
                return true;
            }

            if (response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests)
            {
                Rejected++;
                var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(100);
                await Task.Delay(wait, stop);
                return true;
            }

            Failed++;
            await Task.Delay(10, stop);
            return true;
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            Unanswered++;
            return false;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return false; // a back-off cut short by the end of the run
        }
        catch (HttpRequestException)
        {
            Failed++;
            return !stop.IsCancellationRequested;
        }
    }
}
