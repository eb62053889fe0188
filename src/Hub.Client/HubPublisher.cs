using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Hub.Client;

/// <summary><c>POST /api/events</c> for <see cref="HubClient"/>: one event or a batch, with the client's credentials
/// and an optional <c>Idempotency-Key</c>.</summary>
internal sealed class HubPublisher(Uri root, HttpClient? http, Func<Task<string?>>? accessTokenProvider, IReadOnlyDictionary<string, string> headers) : IDisposable
{
    private const string IdempotencyKeyHeader = "Idempotency-Key";
    private readonly HttpClient _http = http ?? new HttpClient();
    private readonly bool _ownsHttp = http is null;
    private readonly Uri _events = new(root, "api/events");

    public async Task<IReadOnlyList<PublishedEvent>> PublishAsync(object body, string? idempotencyKey, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _events)
        {
            Content = JsonContent.Create(body, body.GetType(), options: HubJson.Options),
        };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        if (accessTokenProvider is not null && await accessTokenProvider().ConfigureAwait(false) is { Length: > 0 } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation(IdempotencyKeyHeader, idempotencyKey);
        }

        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw await RefusalAsync(response, cancellationToken).ConfigureAwait(false);
        }

        var answer = await response.Content.ReadFromJsonAsync<PublishAnswer>(HubJson.Options, cancellationToken).ConfigureAwait(false);
        return answer?.Events ?? throw new InvalidDataException("The hub's answer to a publish had no events.");
    }

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private static async Task<HubPublishException> RefusalAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string? title = response.ReasonPhrase;
        string? detail = null;
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var problem = JsonDocument.Parse(text);
            if (problem.RootElement.ValueKind == JsonValueKind.Object)
            {
                title = problem.RootElement.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : title;
                detail = problem.RootElement.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            }
        }
        catch (JsonException)
        {
            detail = text.Length > 500 ? text[..500] : text;
        }

        var retryAfter = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow,
            _ => (TimeSpan?)null,
        };
        return new HubPublishException(response.StatusCode, title, detail, retryAfter);
    }

    private sealed record PublishAnswer(IReadOnlyList<PublishedEvent> Events);
}
