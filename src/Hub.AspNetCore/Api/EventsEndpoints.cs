using System.Buffers;
using System.Text.Json;
using Hub.Server.Auth;
using Hub.Log;
using Hub.Server.Publishing;
using Hub.Server.Telemetry;
using Hub.Server.Topics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Hub.Server.Api;

/// <summary><c>POST /api/events</c> and <c>GET /api/events</c>.</summary>
internal static class EventsEndpoints
{
    internal const int DefaultReadLimit = 100;
    internal const string IdempotencyKeyHeader = "Idempotency-Key";
    internal const int MaxIdempotencyKeyLength = 255;

    /// <summary>What <c>Retry-After</c> says to a publish refused because the hub is stopping: about a restart's time.</summary>
    internal const int ShuttingDownRetryAfterSeconds = 5;

    // Publish one event or a batch: validates the body as a whole, then appends it all or nothing; answers once the log
    // has it. (Its OpenAPI summary and description are set where it is mapped: XML docs here would replace them.)
    public static async Task<Results<PublishAccepted, ValidationProblem, ProblemHttpResult>> PublishAsync(
        HttpContext context, IEventLog log, PublishRequestParser parser, IOptions<PublishOptions> options, HubMetrics metrics, TopicAccess access,
        IHostApplicationLifetime lifetime)
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            // SIGTERM: subscribers are being told `ended {reason: "shutdown"}` and the log flushes what it acknowledged;
            // new events wait for the restart. A publish that got past here is appended and acknowledged as usual.
            context.Response.Headers.RetryAfter = ShuttingDownRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Problems.ShuttingDown();
        }

        using var activity = HubTracing.StartPublish();
        var request = context.Request;
        if (!IsJson(request.ContentType))
        {
            return Problems.UnsupportedMediaType(request.ContentType);
        }

        string? idempotencyKey = null;
        if (request.Headers.TryGetValue(IdempotencyKeyHeader, out var keyValues))
        {
            idempotencyKey = keyValues.ToString();
            if (keyValues.Count != 1 || idempotencyKey.Length is 0 or > MaxIdempotencyKeyLength || idempotencyKey.Any(char.IsControl))
            {
                return Problems.Invalid(IdempotencyKeyHeader, $"must be one value of 1 to {MaxIdempotencyKeyLength} printable characters");
            }
        }

        var limit = options.Value.MaxBodyBytes;
        if (request.ContentLength > limit)
        {
            return Problems.TooLarge(limit);
        }

        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = limit;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length), context.RequestAborted).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    return Problems.TooLarge(limit);
                }
            }

            var parsed = parser.Parse(buffer.AsMemory(0, length), HubTracing.TraceParentFor(activity));
            activity?.SetTag("messaging.batch.message_count", parsed.Drafts?.Count ?? 0);
            if (parsed.Errors is not null)
            {
                return Problems.Invalid(parsed.Errors);
            }

            if (AuthChecks.FirstUnpublishable(access.For(context.User), parsed.Drafts!) is { } refused)
            {
                return refused;
            }

            IReadOnlyList<AppendedEvent> appended;
            try
            {
                // The key is the credential's: the same key from another subject is another key.
                var scopedKey = idempotencyKey is null ? (IdempotencyKey?)null : new IdempotencyKey(access.SubjectOf(context.User), idempotencyKey);
                appended = await log.AppendAsync(parsed.Drafts!, scopedKey, context.RequestAborted).ConfigureAwait(false);
            }
            catch (LogOverloadedException ex)
            {
                SetRetryAfter(context, ex.RetryAfter);
                return Problems.Overloaded(ex.Message);
            }
            catch (LogUnavailableException ex)
            {
                SetRetryAfter(context, ex.RetryAfter);
                return Problems.Unavailable(ex.Message);
            }

            var added = 0;
            for (var i = 0; i < appended.Count; i++)
            {
                added += appended[i].Duplicate ? 0 : 1;
            }

            metrics.RecordPublished(appended.Count, added);

            return new PublishAccepted(appended);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Problems.TooLarge(limit);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // Read the log after a sequence, filtered by a topic pattern; written from the stored envelopes. Its OpenAPI summary
    // and description are set where it is mapped (an XML summary here would replace them); its parameters' are below.
    /// <param name="context">The request.</param>
    /// <param name="log">The log.</param>
    /// <param name="topic">A topic pattern such as <c>orders.*</c> or <c>orders.&gt;</c>; default <c>&gt;</c> (every topic).</param>
    /// <param name="after">Read events after this sequence (integer ≥ 0; default 0, from the oldest retained).</param>
    /// <param name="limit">The most events to return (1 to <c>Hub:Limits:MaxReadEvents</c>, 1000 by default; default 100).</param>
    /// <param name="epoch">The epoch `after` belongs to (as a previous page answered it): when it is not the log's, the log was reset and the call answers 409.</param>
    /// <param name="access">Who may read what.</param>
    /// <param name="options">The log's read bounds.</param>
    /// <param name="limits">The bounds on what a client may ask.</param>
    public static async Task<IResult> ReadAsync(HttpContext context, IEventLog log, string? topic, string? after, string? limit, string? epoch, TopicAccess access, IOptions<EventLogOptions> options, IOptions<Limits.LimitsOptions> limits)
    {
        var pattern = TopicPattern.TryParse(string.IsNullOrEmpty(topic) ? ">" : topic, out var patternError);
        if (pattern is null)
        {
            return Problems.Invalid("topic", $"is not a valid topic pattern: {patternError}");
        }

        if (!access.For(context.User).MaySubscribe(pattern))
        {
            return AuthChecks.NotCovered("topic", pattern.Text);
        }

        long afterValue = 0;
        if (!string.IsNullOrEmpty(after) && (!long.TryParse(after, out afterValue) || afterValue < 0))
        {
            return Problems.Invalid("after", $"must be a sequence ≥ 0 (got '{TopicName.Shorten(after)}')");
        }

        var maxLimit = limits.Value.MaxReadEvents;
        var limitValue = Math.Min(DefaultReadLimit, maxLimit);
        if (!string.IsNullOrEmpty(limit) && (!int.TryParse(limit, out limitValue) || limitValue < 1 || limitValue > maxLimit))
        {
            return Problems.Invalid("limit", $"must be an integer from 1 to {maxLimit} (Hub:Limits:MaxReadEvents; got '{TopicName.Shorten(limit)}')");
        }

        // A position from another log is refused, never read from: the same sequence there is another event.
        if (!string.IsNullOrEmpty(epoch) && !string.Equals(epoch, log.Epoch, StringComparison.Ordinal))
        {
            return Problems.LogReset("epoch", $"'{TopicName.Shorten(epoch)}' is not the epoch of this hub's log: the log was reset, and its sequences are not those of the old one; read again without epoch from after=0", log.Epoch, log.Head);
        }

        if (afterValue > log.Head)
        {
            // On several nodes, a sequence another node answered may be ahead of this node's memory: the store decides.
            long head;
            try
            {
                head = await log.ReachAsync(afterValue, context.RequestAborted).ConfigureAwait(false);
            }
            catch (LogUnavailableException ex)
            {
                SetRetryAfter(context, ex.RetryAfter);
                return Problems.Unavailable(ex.Message);
            }

            if (afterValue > head)
            {
                return Problems.LogReset("after", $"{afterValue} is beyond the head of this hub's log ({head}): the log was reset, and its sequences are not those of the old one; read again from after=0", log.Epoch, head);
            }
        }

        // Bounded work per call: at most Hub:Log:MaxScanEvents entries examined (the log's own bound) and a page of at
        // most Hub:Log:MaxPageBytes; `next` says where the scan stopped, so a pattern that matches nothing still moves on.
        var maxBytes = options.Value.MaxPageBytes;
        var entries = new List<LogEntry>(Math.Min(limitValue, 64));
        var filter = new TopicFilter(pattern);
        LogRead read;
        try
        {
            read = await log.ReadAsync(afterValue, filter, limitValue, maxBytes, entries, context.RequestAborted).ConfigureAwait(false);
            if (read.Truncated)
            {
                // The caller asked for more than is kept: read from the oldest retained event (a page has no gap marker).
                read = await log.ReadAsync(read.FirstRetained - 1, filter, limitValue, maxBytes, entries, context.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (LogUnavailableException ex)
        {
            // The page lies in a store that cannot be read now (PostgreSQL unreachable): the caller tries again later.
            SetRetryAfter(context, ex.RetryAfter);
            return Problems.Unavailable(ex.Message);
        }

        return new EventsPageResult(entries, read.ScannedTo, log.Epoch);
    }

    private static void SetRetryAfter(HttpContext context, TimeSpan retryAfter) =>
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static bool IsJson(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return false;
        }

        var mediaType = contentType.AsSpan();
        var semicolon = mediaType.IndexOf(';');
        if (semicolon >= 0)
        {
            mediaType = mediaType[..semicolon];
        }

        mediaType = mediaType.Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (mediaType.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }

    private sealed class TopicFilter(TopicPattern pattern) : IEventFilter
    {
        public bool Matches(LogEntry entry) => pattern.Matches(entry.Topic);
    }

    /// <summary>Writes <c>{"events":[…],"next":N,"epoch":"…"}</c> from the entries' stored JSON.</summary>
    private sealed class EventsPageResult(List<LogEntry> entries, long next, string epoch) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status200OK;
            httpContext.Response.ContentType = "application/json; charset=utf-8";
            await using (var writer = new Utf8JsonWriter(httpContext.Response.BodyWriter))
            {
                writer.WriteStartObject();
                writer.WriteStartArray("events");
                foreach (var entry in entries)
                {
                    writer.WriteRawValue(entry.Json, skipInputValidation: true);
                }

                writer.WriteEndArray();
                writer.WriteNumber("next", next);
                writer.WriteString("epoch", epoch);
                writer.WriteEndObject();
            }

            await httpContext.Response.BodyWriter.FlushAsync(httpContext.RequestAborted).ConfigureAwait(false);
        }
    }
}
