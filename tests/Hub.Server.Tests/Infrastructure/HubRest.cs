using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Hub.Server.Tests.Infrastructure;

/// <summary>The REST calls the durability tests make against any hub, in-process or a child process.</summary>
public static class HubRest
{
    public static async Task<JsonElement[]> PublishAsync(HttpClient http, object body)
    {
        using var response = await http.PostAsync("api/events", TestHub.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"publish answered {(int)response.StatusCode}: {text}");
        using var document = JsonDocument.Parse(text);
        return document.RootElement.GetProperty("events").EnumerateArray().Select(e => e.Clone()).ToArray();
    }

    /// <summary>Every event in the log, by <c>GET /api/events</c> pages, in order.</summary>
    public static async Task<List<JsonElement>> ReadAllAsync(HttpClient http)
    {
        var all = new List<JsonElement>();
        long after = 0;
        for (var pages = 0; pages < 10_000; pages++)
        {
            var page = await http.GetFromJsonAsync<JsonElement>($"api/events?after={after}&limit=1000");
            var events = page.GetProperty("events").EnumerateArray().ToArray();
            if (events.Length == 0)
            {
                return all;
            }

            all.AddRange(events);
            after = page.GetProperty("next").GetInt64();
        }

        throw new InvalidOperationException("the log did not end within 10,000 pages");
    }

    /// <summary>
    /// Every event in the log as node <paramref name="http"/> serves it, once that node's log reaches
    /// <paramref name="sequence"/>: a node learns another node's appends from the store's feed, a moment after they
    /// were answered there, so a read right after publishing on another node may not hold them yet.
    /// </summary>
    public static async Task<List<JsonElement>> ReadAllThroughAsync(HttpClient http, long sequence)
    {
        var all = new List<JsonElement>();
        await Eventually.TrueAsync(async () =>
        {
            all = await ReadAllAsync(http);
            return all.Count > 0 && all[^1].GetProperty("sequence").GetInt64() >= sequence;
        }, $"the node's log to reach sequence {sequence}");
        return all;
    }

    /// <summary>What identifies a stored event: its sequence, topic and id (for comparing reads, deliveries and answers).</summary>
    public static (long Sequence, string Topic, string Id) Identity(JsonElement e) =>
        (e.GetProperty("sequence").GetInt64(), e.GetProperty("topic").GetString()!, e.GetProperty("id").GetString()!);
}
