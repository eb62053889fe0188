using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Hub.Log.Sqlite;
using Hub.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Hub.Server.Tests.Api;

/// <summary>
/// Reads of the log do a bounded amount of work per call: <c>GET /api/events</c> examines at most
/// <c>Hub:Log:MaxScanEvents</c> events and answers at most <c>Hub:Log:MaxPageBytes</c>, and a subscriber's catch-up goes
/// through the same bounded reads. A pattern that matches nothing in a million-event log answers at once, with an empty
/// page whose <c>next</c> moves on.
/// </summary>
public sealed class ReadBoundsTests
{
    [Fact]
    public async Task MillionEventLog_ANonMatchingPattern_AnswersEmptyPagesWhoseNextAdvancesByTheBound_AndRepeatedCallsReachTheHead()
    {
        const int total = 1_000_000;
        var directory = Directory.CreateTempSubdirectory("hub-million-").FullName;
        try
        {
            var path = Path.Combine(directory, "hub.db");
            WriteLog(path, total, "noise.x");
            await using var hub = await TestHub.StartAsync(new Dictionary<string, string?>
            {
                ["Hub:Log:Sqlite:Path"] = path,
                ["Hub:Log:Retention:MaxEvents"] = "2000000",
            });
            var needle = Assert.Single(await hub.PublishAsync(new[] { new { topic = "needle", data = "found" } }));
            Assert.Equal(total + 1, needle);

            var stops = new List<long>();
            var found = new List<JsonElement>();
            long after = 0;
            for (var calls = 0; calls < 1_000 && after < needle; calls++)
            {
                var page = await hub.Http.GetFromJsonAsync<JsonElement>($"api/events?topic=needle&after={after}&limit=100");
                found.AddRange(page.GetProperty("events").EnumerateArray().Select(e => e.Clone()));
                var next = page.GetProperty("next").GetInt64();
                Assert.True(next > after, $"next {next} did not move on from {after}");
                stops.Add(after = next);
            }

            // Every call examined at most the bound's worth (10,000) and stopped there (the file's reads at exactly the
            // bound; one may stop short where the memory tail begins); the last one found the needle at the head.
            var bound = Hub.Log.EventLogOptions.DefaultMaxScanEvents;
            Assert.Equal(Enumerable.Range(1, 98).Select(i => (long)i * bound), stops.Take(98));
            Assert.All(stops.Zip(stops.Skip(1)), step => Assert.InRange(step.Second - step.First, 1, bound));
            Assert.InRange(stops.Count, total / bound, (total / bound) + 2);
            Assert.Equal(needle, stops[^1]);
            var only = Assert.Single(found);
            Assert.Equal((needle, "found"), (only.GetProperty("sequence").GetInt64(), only.GetProperty("data").GetString()));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Read_APageStopsGrowingOnceItsEventsReachMaxPageBytes()
    {
        await using var hub = await TestHub.StartAsync(new Dictionary<string, string?> { ["Hub:Log:MaxPageBytes"] = "1024" });
        var published = await hub.PublishAsync(Enumerable.Range(0, 10).Select(i => new { topic = "big", data = new string((char)('a' + i), 300 + (i * 10)) }).ToArray());

        // Each event's size as stored (the page writes the stored bytes as they are), one page of one at a time.
        var sizes = new List<int>();
        foreach (var sequence in published)
        {
            var single = await hub.Http.GetFromJsonAsync<JsonElement>($"api/events?after={sequence - 1}&limit=1");
            sizes.Add(Encoding.UTF8.GetByteCount(single.GetProperty("events")[0].GetRawText()));
        }

        var (expected, total) = (0, 0);
        while (total < 1024)
        {
            total += sizes[expected++];
        }

        Assert.InRange(expected, 2, 9); // the bound, not the limit or the log's end, stops the page
        var page = await hub.Http.GetFromJsonAsync<JsonElement>("api/events?after=0&limit=100");
        Assert.Equal(published[..expected], page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64()));
        Assert.Equal(published[expected - 1], page.GetProperty("next").GetInt64());

        // One event larger than the bound is still a page of one.
        var large = Assert.Single(await hub.PublishAsync(new[] { new { topic = "big", data = new string('z', 4000) } }));
        var alone = await hub.Http.GetFromJsonAsync<JsonElement>($"api/events?after={large - 1}&limit=100");
        Assert.Equal([large], alone.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64()));
    }

    [Fact]
    public async Task Replay_OfARarePattern_GoesThroughBoundedReads_AndDeliversWhatMatches()
    {
        await using var hub = await TestHub.StartAsync(new Dictionary<string, string?> { ["Hub:Log:MaxScanEvents"] = "100" });
        for (var i = 0; i < 20; i++)
        {
            await hub.PublishManyAsync("noise", 1000);
        }

        var needles = await hub.PublishAsync(new[] { new { topic = "needle", data = 1 } });
        await hub.PublishManyAsync("noise", 250);
        await using var client = await hub.ConnectAsync();
        var replay = await client.SubscribeAsync(new SubscribeArgs(["needle"], After: 0, MaxDemand: 10));
        await replay.WaitForCountAsync(1);
        Assert.Equal(needles, replay.Sequences);

        // It went on past the needle to the head, through reads that found nothing.
        var head = await hub.GetHeadAsync();
        await Eventually.TrueAsync(async () => (await hub.GetSubscriptionAsync(replay.Id)).GetProperty("position").GetInt64() == head, "the replay reaches the head");
        Assert.Equal(1, replay.Count);
    }

    /// <summary>Writes a log of <paramref name="count"/> events straight into a new SQLite file, as the hub stores them.</summary>
    private static void WriteLog(string path, int count, string topic)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        SqliteSchema.Apply(connection, skipFsync: true);
        using var transaction = connection.BeginTransaction();
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT INTO events (sequence, topic, time, json) VALUES ($sequence, $topic, $time, $json)";
        var sequence = insert.Parameters.Add("$sequence", SqliteType.Integer);
        insert.Parameters.AddWithValue("$topic", topic);
        insert.Parameters.AddWithValue("$time", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var json = insert.Parameters.Add("$json", SqliteType.Blob);
        for (var i = 1; i <= count; i++)
        {
            sequence.Value = i;
            json.Value = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{{\"sequence\":{i},\"topic\":\"{topic}\",\"data\":{i}}}"));
            insert.ExecuteNonQuery();
        }

        using var topics = connection.CreateCommand();
        topics.Transaction = transaction;
        topics.CommandText = "INSERT INTO topics (topic, count, last_sequence) VALUES ($topic, $count, $count)";
        topics.Parameters.AddWithValue("$topic", topic);
        topics.Parameters.AddWithValue("$count", count);
        topics.ExecuteNonQuery();
        transaction.Commit();
    }
}
