using System.Text;
using Hub.Log;
using Hub.Log.Sqlite;
using Hub.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hub.Server.Tests.Log;

/// <summary>
/// How the SQLite log fails, on the log itself: a writer that throws refuses what it held, what is queued and what comes
/// after, and says it is failed; a commit that fails (a real full disk) refuses its whole group and forgets the ids and
/// keys the group made dedup remember, so a retry appends normally; and the log recovers by itself when room returns.
/// The hub's answers to the same faults (503, health) are in <see cref="Hub.Server.Tests.LogFailureTests"/>.
/// </summary>
public sealed class SqliteLogFailureTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly string _directory = Directory.CreateTempSubdirectory("hub-log-failure-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task WriterThatThrows_RefusesWhatItHeld_WhatWasQueued_AndEveryLaterAppendAtOnce_AndSaysItFailed()
    {
        var clock = new GatedClock();
        var logger = new RecordingLogger<SqliteEventLog>();
        var path = Path.Combine(_directory, "hub.db");
        var log = Open(path, clock, logger);
        await using (log)
        {
            Assert.Equal(1, (await log.AppendAsync([Draft("a", "before")]))[0].Sequence);

            clock.Park();
            var held = log.AppendAsync([Draft("a", "held")]).AsTask();
            await clock.Parked.WaitAsync(Deadline); // the writer is inside a group commit (or a retention pass) and holds the clock
            var queued = new[]
            {
                log.AppendAsync([Draft("a", "queued-1"), Draft("a", "queued-2")]).AsTask(),
                log.AppendAsync([Draft("b", "queued-3")], idempotencyKey: new IdempotencyKey("s", "k")).AsTask(),
            };
            clock.Throw(new InvalidOperationException("a bug in the writer"));

            foreach (var append in queued.Prepend(held))
            {
                var refused = await Assert.ThrowsAsync<LogUnavailableException>(() => append.WaitAsync(Deadline));
                Assert.Equal("the log cannot be written until the hub restarts: its writer stopped on InvalidOperationException: a bug in the writer", refused.Message);
                Assert.True(refused.RetryAfter >= TimeSpan.FromSeconds(1));
            }

            // After: refused before anything is queued (no waiting on a writer that is gone).
            var later = Assert.Throws<LogUnavailableException>(() => { _ = log.AppendAsync([Draft("a", "later")]); });
            Assert.Equal("the log cannot be written until the hub restarts: its writer stopped on InvalidOperationException: a bug in the writer", later.Message);

            var health = await log.CheckHealthAsync();
            Assert.Equal(new LogHealth(LogState.Failed, "the log cannot be written until the hub restarts: its writer stopped on InvalidOperationException: a bug in the writer"), health);
            var said = Assert.Single(logger.WithId(3006));
            Assert.Equal(LogLevel.Critical, said.Level);
            Assert.Equal("a bug in the writer", said.Exception?.Message);
            Assert.Contains(path, said.Message, StringComparison.Ordinal);
            Assert.Equal(0, log.SqliteStore().PendingEvents);
            Assert.Equal(1, log.Head);
        }

        clock.Release();
        await using var reopened = Open(path, TimeProvider.System, new RecordingLogger<SqliteEventLog>());
        Assert.Equal(new[] { "before" }, (await ReadAllAsync(reopened)).Select(e => e.Id));
    }

    /// <summary>
    /// A real full disk (a small tmpfs, filled): the commit of a group of four appends fails; each is refused, none is
    /// acknowledged or readable, and the ids and keys they made dedup remember are forgotten, so the same publishes
    /// afterwards append normally, with the next sequences; the probe finds the room again with no append asking.
    /// </summary>
    [Fact]
    public async Task FailedCommit_RefusesTheWholeGroup_ForgetsItsIdsAndKeys_AndRetriesAppendNormallyOnceTheDiskHasRoom()
    {
        using var disk = SmallDisk.Mount(megabytes: 8);
        var clock = new GatedClock();
        var logger = new RecordingLogger<SqliteEventLog>();
        var path = Path.Combine(disk.Path, "hub.db");
        await using var log = Open(path, clock, logger);
        Assert.Equal(1, (await log.AppendAsync([Draft("a", "w")]))[0].Sequence);

        // Hold the writer, queue a group, take the disk's last byte, let the writer go.
        clock.Park();
        var first = log.AppendAsync([Draft("a", "x0", Pad(64 * 1024))]).AsTask();
        await clock.Parked.WaitAsync(Deadline);
        var group = new[]
        {
            log.AppendAsync([Draft("a", "x", Pad(64 * 1024)), Draft("a", "y")]).AsTask(),
            log.AppendAsync([Draft("a", "x")]).AsTask(),                  // a duplicate of the first, within the group
            log.AppendAsync([Draft("b", null)], idempotencyKey: new IdempotencyKey("s", "k1")).AsTask(),
            log.AppendAsync([Draft("b", null)], idempotencyKey: new IdempotencyKey("s", "k1")).AsTask(), // the same key, within the group
        };
        disk.Fill();
        clock.Release();

        foreach (var append in group.Prepend(first))
        {
            var refused = await Assert.ThrowsAsync<LogUnavailableException>(() => append.WaitAsync(Deadline));
            Assert.StartsWith("the log cannot be written now: the disk is full (SQLite Error 13: 'database or disk is full'", refused.Message, StringComparison.Ordinal);
        }

        Assert.Equal(1, log.Head);
        Assert.Equal(new[] { "w" }, (await ReadAllAsync(log)).Select(e => e.Id));
        var unwritable = await log.CheckHealthAsync();
        Assert.Equal(LogState.Unwritable, unwritable.State);
        Assert.Contains("the disk is full", unwritable.Description, StringComparison.Ordinal);
        var said = Assert.Single(logger.WithId(3002)); // said once when it began, not once per refused group
        Assert.Equal(LogLevel.Error, said.Level);

        disk.Free();
        await Eventually.TrueAsync(async () => (await log.CheckHealthAsync()).State == LogState.Writable, "the probe finds room again", Deadline);
        Assert.Contains(logger.WithId(3009), e => e.Level == LogLevel.Information);

        // The refused publishes again: nothing of them was remembered.
        Assert.Equal(new[] { new AppendedEvent(2, "a", "x", false) }, await log.AppendAsync([Draft("a", "x")]));
        Assert.Equal(new[] { new AppendedEvent(2, "a", "x", true), new AppendedEvent(3, "a", "y", false) }, await log.AppendAsync([Draft("a", "x"), Draft("a", "y")]));
        Assert.Equal(new[] { new AppendedEvent(4, "b", null, false) }, await log.AppendAsync([Draft("b", null)], idempotencyKey: new IdempotencyKey("s", "k1")));
        Assert.Equal(new[] { new AppendedEvent(4, "b", null, false) }, await log.AppendAsync([Draft("b", null)], idempotencyKey: new IdempotencyKey("s", "k1")));
        Assert.Equal(new[] { new AppendedEvent(5, "a", "x0", false) }, await log.AppendAsync([Draft("a", "x0")]));
        Assert.Equal(new[] { "w", "x", "y", null, "x0" }, (await ReadAllAsync(log)).Select(e => e.Id));
        Assert.Equal(LogState.Writable, (await log.CheckHealthAsync()).State);
    }

    /// <summary>
    /// The reserve for a full disk (<c>Hub:Log:Sqlite:ReserveBytes</c>): a file of that size beside the database, made at
    /// start and said; deleted by hand (as an operator may, for room at once), it is made again with no append asking; a
    /// hub started with another size makes it at that size, and one started with 0 deletes it.
    /// </summary>
    [Fact]
    public async Task Reserve_IsMadeAtStart_MadeAgainWhenDeletedByHand_AndFollowsTheSetting()
    {
        var path = Path.Combine(_directory, "hub.db");
        var reserve = path + "-reserve";
        var logger = new RecordingLogger<SqliteEventLog>();
        await using (TestLogs.Sqlite(new EventLogOptions { Sqlite = { Path = path, ReserveBytes = 64 * 1024 } }, TimeProvider.System, logger))
        {
            Assert.Equal(64 * 1024, new FileInfo(reserve).Length);
            var said = Assert.Single(logger.WithId(3012));
            Assert.Equal(LogLevel.Information, said.Level);
            Assert.Equal($"The reserve of 65536 bytes that retention uses on a full disk is in place at {reserve}", said.Message);

            File.Delete(reserve);
            await Eventually.TrueAsync(() => File.Exists(reserve) && new FileInfo(reserve).Length == 64 * 1024, "the reserve made again", Deadline);
            await Eventually.TrueAsync(() => logger.WithId(3012).Length == 2, "the reserve said in place again", Deadline);
        }

        await using (TestLogs.Sqlite(new EventLogOptions { Sqlite = { Path = path, ReserveBytes = 128 * 1024 } }, TimeProvider.System, logger))
        {
            Assert.Equal(128 * 1024, new FileInfo(reserve).Length);
        }

        await using (TestLogs.Sqlite(new EventLogOptions { Sqlite = { Path = path, ReserveBytes = 0 } }, TimeProvider.System, logger))
        {
            Assert.False(File.Exists(reserve));
        }

        Assert.Empty(logger.WithId(3013));
    }

    private static LogTail Open(string path, TimeProvider clock, ILogger<SqliteEventLog> logger) =>
        TestLogs.Sqlite(new EventLogOptions { Sqlite = { Path = path, ReserveBytes = 0 } }, clock, logger); // no reserve: a full disk stays full

    private static EventDraft Draft(string topic, string? id, string? data = null) =>
        new(topic, "t", id, null, DateTimeOffset.UtcNow, Encoding.UTF8.GetBytes($"{{\"topic\":\"{topic}\",\"data\":\"{data}\"}}"));

    private static string Pad(int length) => new('p', length);

    private static async Task<List<LogEntry>> ReadAllAsync(IEventLog log)
    {
        var entries = new List<LogEntry>();
        await log.ReadAsync(0, null, 1000, int.MaxValue, entries);
        return entries;
    }
}
