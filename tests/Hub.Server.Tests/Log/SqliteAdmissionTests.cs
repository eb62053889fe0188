using System.Net;
using System.Text;
using Hub.Log;
using Hub.Log.Sqlite;
using Hub.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Hub.Server.Tests.Log;

/// <summary>
/// Admission back-pressure: when the writer cannot keep up (here it is held by another connection's write lock on the
/// file), appends past <c>MaxPendingEvents</c> are refused at once, append nothing, and say when to retry.
/// </summary>
public sealed class SqliteAdmissionTests
{
    private static EventDraft Draft() => new("a", null, null, null, DateTimeOffset.UtcNow, """{"topic":"a"}"""u8.ToArray());

    private static SqliteConnection HoldWriteLock(string path)
    {
        var blocker = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        blocker.Open();
        using var begin = blocker.CreateCommand();
        begin.CommandText = "BEGIN IMMEDIATE";
        begin.ExecuteNonQuery();
        return blocker;
    }

    [Fact]
    public async Task Append_PastMaxPendingEvents_IsRefused_AndAppendsNothing_ThenTheQueuedOnesCommit()
    {
        var directory = Directory.CreateTempSubdirectory("hub-admission-").FullName;
        try
        {
            var options = new EventLogOptions { Sqlite = { Path = Path.Combine(directory, "hub.db"), MaxPendingEvents = 10 } };
            await using var log = TestLogs.Sqlite(options);
            var blocker = HoldWriteLock(options.Sqlite.Path);
            var first = log.AppendAsync(Enumerable.Range(0, 5).Select(_ => Draft()).ToArray()).AsTask();
            var second = log.AppendAsync(Enumerable.Range(0, 5).Select(_ => Draft()).ToArray()).AsTask();

            var refused = Assert.Throws<LogOverloadedException>(() => { _ = log.AppendAsync([Draft()]); });
            Assert.Contains("MaxPendingEvents", refused.Message, StringComparison.Ordinal);
            Assert.True(refused.RetryAfter > TimeSpan.Zero);
            Assert.False(first.IsCompleted, "nothing commits while the file is locked");

            blocker.Dispose(); // rolls back the blocker's empty transaction: the writer goes on
            var answers = (await first.WaitAsync(TimeSpan.FromSeconds(20))).Concat(await second.WaitAsync(TimeSpan.FromSeconds(20)));
            Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), answers.Select(a => a.Sequence));
            Assert.Equal(10, log.Head);
            Assert.Equal(11, (await log.AppendAsync([Draft()]))[0].Sequence); // admitted again once the backlog is written
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Publish_WhenTheWriterIsBehind_Answers503WithRetryAfter_AndAppendsNothing()
    {
        await using var hub = await TestHub.StartAsync(new Dictionary<string, string?> { ["Hub:Log:Sqlite:MaxPendingEvents"] = "3" });
        await hub.PublishAsync(new { topic = "warm" }); // the file exists and the writer is up
        var blocker = HoldWriteLock(hub.DatabasePath);
        var held = hub.Http.PostAsync("api/events", TestHub.Json(new[] { new { topic = "a" }, new { topic = "a" }, new { topic = "a" } }));
        await Eventually.TrueAsync(() => held.IsCompleted || HasPending(hub), "the first batch is waiting for the writer");

        using var refused = await hub.Http.PostAsync("api/events", new StringContent("""{"topic":"b"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "Retry-After in seconds");

        blocker.Dispose();
        using var accepted = await held.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal(4, await hub.GetHeadAsync()); // "warm" and the three; nothing of the refused one
        Assert.DoesNotContain("b", (await hub.Http.GetStringAsync("api/topics")).Split('"'));
    }

    private static bool HasPending(TestHub hub) =>
        ((IEventLog)hub.Services.GetService(typeof(IEventLog))!).SqliteStore().PendingEvents > 0;
}
