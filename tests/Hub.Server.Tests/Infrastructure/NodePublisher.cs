using System.Net;
using System.Text.Json;

namespace Hub.Server.Tests.Infrastructure;

/// <summary>An event a node answered <c>202</c> for: its sequence, topic and id as the answer gave them.</summary>
public sealed record Acknowledged(long Sequence, string Topic, string Id);

/// <summary>
/// A publisher as a careful client behind a load balancer is written: it POSTs numbered batches (ids
/// <c>{prefix}-{batch}-{i}</c>, so every publish is idempotent) to its first node, and a batch that is not answered
/// <c>202</c> (a <c>503</c>, or a connection that broke because the node died) is sent again with the same ids until it
/// is, to the same node after a <c>503</c> and to the next one after a broken connection. Nothing published is given
/// up: a test bounds the whole by its deadline. It records each acknowledgement, each refusal, and anything a node
/// should never answer (another status, a <c>503</c> without <c>Retry-After</c>, a first attempt answered
/// <c>duplicate</c>).
/// </summary>
public sealed class NodePublisher(IReadOnlyList<HttpClient> nodes, string topic, string prefix)
{
    /// <summary>The pause between two attempts of a refused batch: a pace for the retries, not a wait for a condition.</summary>
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(50);
    private readonly Lock _gate = new();
    private readonly List<Acknowledged> _acknowledged = [];
    private readonly List<string> _violations = [];
    private readonly List<string> _ids = [];
    private int _node;
    private int _refused;
    private int _broken;
    private int _batches;

    /// <summary>Every event answered 202, in the order answered (a retried batch may answer an earlier sequence, marked
    /// duplicate by the hub: the sequence its first, unanswered, attempt was given).</summary>
    public IReadOnlyList<Acknowledged> Acknowledged { get { lock (_gate) { return [.. _acknowledged]; } } }

    /// <summary>The ids of every event of every batch this publisher finished, in order.</summary>
    public IReadOnlyList<string> Ids { get { lock (_gate) { return [.. _ids]; } } }

    /// <summary>Answers a node must never give, each described.</summary>
    public IReadOnlyList<string> Violations { get { lock (_gate) { return [.. _violations]; } } }

    /// <summary>Attempts answered 503 with a Retry-After.</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>Attempts whose connection broke (the node gone).</summary>
    public int Broken => Volatile.Read(ref _broken);

    /// <summary>Batches acknowledged so far.</summary>
    public int Batches => Volatile.Read(ref _batches);

    /// <summary>
    /// Publishes <paramref name="batches"/> batches of <paramref name="size"/> events, one after the other, each until it
    /// is acknowledged. <paramref name="beforeBatch"/>, if given, is awaited before each batch (with its number), so a
    /// test can hold the publisher at a point.
    /// </summary>
    public async Task RunAsync(int batches, int size, Func<int, Task>? beforeBatch = null, CancellationToken cancellationToken = default)
    {
        for (var batch = 0; batch < batches; batch++)
        {
            if (beforeBatch is not null)
            {
                await beforeBatch(batch);
            }

            var ids = Enumerable.Range(0, size).Select(i => $"{prefix}-{batch}-{i}").ToArray();
            var body = ids.Select(id => new { topic, id, data = new { publisher = prefix, batch } }).ToArray();
            for (var attempt = 0; ; attempt++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (await TryOnceAsync(nodes[_node], body, ids, attempt, cancellationToken))
                {
                    break;
                }

                await Task.Delay(RetryPause, cancellationToken);
            }

            lock (_gate)
            {
                _ids.AddRange(ids);
            }

            Interlocked.Increment(ref _batches);
        }
    }

    private async Task<bool> TryOnceAsync(HttpClient http, object body, string[] ids, int attempt, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.PostAsync("api/events", TestHub.Json(body), cancellationToken);
        }
        catch (HttpRequestException)
        {
            // The node is gone (killed): the batch may or may not be in the log; the next node is asked with the same ids.
            Interlocked.Increment(ref _broken);
            _node = (_node + 1) % nodes.Count;
            return false;
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                using var document = JsonDocument.Parse(text);
                var events = document.RootElement.GetProperty("events").EnumerateArray().ToArray();
                lock (_gate)
                {
                    if (events.Length != ids.Length)
                    {
                        _violations.Add($"{http.BaseAddress}: {ids.Length} events acknowledged as {events.Length}: {text}");
                    }

                    for (var i = 0; i < events.Length; i++)
                    {
                        var e = events[i];
                        var id = e.GetProperty("id").GetString() ?? "";
                        if (id != ids[Math.Min(i, ids.Length - 1)])
                        {
                            _violations.Add($"{http.BaseAddress}: event {i} of a batch acknowledged with id '{id}', not '{ids[i]}'");
                        }

                        if (attempt == 0 && e.GetProperty("duplicate").GetBoolean())
                        {
                            _violations.Add($"{http.BaseAddress}: '{id}' answered duplicate on its first publish");
                        }

                        _acknowledged.Add(new Acknowledged(e.GetProperty("sequence").GetInt64(), e.GetProperty("topic").GetString()!, id));
                    }
                }

                return true;
            }

            if (response.StatusCode == HttpStatusCode.ServiceUnavailable && response.Headers.RetryAfter?.Delta is { } delay && delay > TimeSpan.Zero
                && response.Content.Headers.ContentType?.MediaType == "application/problem+json")
            {
                Interlocked.Increment(ref _refused);
                return false;
            }

            lock (_gate)
            {
                _violations.Add($"{http.BaseAddress}: answered {(int)response.StatusCode} (Retry-After {response.Headers.RetryAfter?.ToString() ?? "none"}, {response.Content.Headers.ContentType}): {text}");
            }

            return false;
        }
    }
}
