using System.Text;
using Hub.Log;
using Hub.Log.Sqlite;
using Hub.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Hub.Server.Tests.Log;

/// <summary>
/// The <see cref="IEventLog"/> contract, run against <see cref="SqliteEventLog"/> on a fresh temp file per log; plus what
/// only a durable log promises: what it holds, its head and its dedup memory survive closing and opening the file again.
/// </summary>
public sealed class SqliteEventLogContractTests : EventLogContractTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "hub-sqlite-tests-" + Guid.NewGuid().ToString("N"));

    protected override IEventLog CreateLog(EventLogOptions options, TimeProvider time)
    {
        options.Sqlite.Path = NewPath();
        return Open(options, time);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private string NewPath()
    {
        Directory.CreateDirectory(_directory);
        return Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".db");
    }

    private static IEventLog Open(EventLogOptions options, TimeProvider time) => TestLogs.Sqlite(options, time);

    private EventLogOptions OptionsOnOneFile(int maxEvents = 1000, TimeSpan? maxAge = null)
    {
        var options = new EventLogOptions { Retention = new() { MaxEvents = maxEvents, MaxAge = maxAge ?? EventLogOptions.DefaultMaxAge } };
        options.Sqlite.Path = NewPath();
        return options;
    }

    private static EventDraft DraftAt(string topic, string? id, DateTimeOffset time) =>
        new(topic, "t", id, null, time, Encoding.UTF8.GetBytes($"{{\"topic\":\"{topic}\"}}"));

    [Fact]
    public async Task Reopen_ReadsBackEveryEventByteForByte_AndKeepsTheHeadAndTopics()
    {
        var options = OptionsOnOneFile();
        var first = Open(options, TimeProvider.System);
        await first.AppendAsync([Draft("a", "x", "m1"), Draft("b", null, "m2")]);
        await first.AppendAsync([Draft("a", null, "m3")]);
        var before = await ReadAllAsync(first);
        var topicsBefore = first.GetTopics().OrderBy(t => t.Topic, StringComparer.Ordinal).ToArray();
        await CloseAsync(first);

        var second = Open(options, TimeProvider.System);
        try
        {
            Assert.Equal(3, second.Head);
            Assert.Equal(1, second.FirstRetained);
            var after = await ReadAllAsync(second);
            Assert.Equal(before.Select(e => Encoding.UTF8.GetString(e.Json)), after.Select(e => Encoding.UTF8.GetString(e.Json)));
            Assert.Equal(before.Select(e => (e.Sequence, e.Topic, e.Type, e.Id, e.Key, e.Time)), after.Select(e => (e.Sequence, e.Topic, e.Type, e.Id, e.Key, e.Time)));
            Assert.Equal(topicsBefore, second.GetTopics().OrderBy(t => t.Topic, StringComparer.Ordinal));
            Assert.Equal(4, (await second.AppendAsync([Draft("c")]))[0].Sequence);
        }
        finally
        {
            await CloseAsync(second);
        }
    }

    [Fact]
    public async Task Epoch_IsKeptInTheFile_AReopenKeepsIt_AndANewFileHasAnother()
    {
        var options = OptionsOnOneFile();
        var first = Open(options, TimeProvider.System);
        var epoch = first.Epoch;
        await first.AppendAsync([Draft("a")]);
        await CloseAsync(first);

        var again = Open(options, TimeProvider.System);
        try
        {
            Assert.Equal(epoch, again.Epoch);
        }
        finally
        {
            await CloseAsync(again);
        }

        // The same path, the file gone (replaced by an empty one): another log, another epoch.
        File.Delete(options.Sqlite.Path);
        var fresh = Open(options, TimeProvider.System);
        try
        {
            Assert.Equal(0, fresh.Head);
            Assert.NotEqual(epoch, fresh.Epoch);
        }
        finally
        {
            await CloseAsync(fresh);
        }
    }

    [Fact]
    public async Task ReadFromTheFile_ExaminesAtMostMaxScanEvents_AndStopsAtTheRowItIsExaminingWhenCancelled()
    {
        // A tail of 16 in memory: reads after 0 go to the file.
        var options = OptionsOnOneFile(maxEvents: 10_000);
        options.Sqlite.TailEvents = 16;
        options.MaxScanEvents = 700;
        var log = Open(options, TimeProvider.System);
        try
        {
            await log.AppendAsync(Drafts(2_000));
            var scanning = new CountingFilter(null);
            var entries = new List<LogEntry>();
            var read = await log.ReadAsync(0, new NoneOf(scanning), 10, int.MaxValue, entries);
            Assert.Empty(entries);
            Assert.Equal((700L, false), (read.ScannedTo, read.Truncated));
            Assert.Equal(700, scanning.Calls); // more than one page of the file (512 rows), and no row past the bound

            using var cancel = new CancellationTokenSource();
            var cancelling = new CountingFilter(null, cancelAt: 600, cancel);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await log.ReadAsync(0, new NoneOf(cancelling), 10, int.MaxValue, entries, cancel.Token));
            Assert.Equal(600, cancelling.Calls);
        }
        finally
        {
            await CloseAsync(log);
        }
    }

    /// <summary>Examines every entry through <paramref name="inner"/> and keeps none.</summary>
    private sealed class NoneOf(IEventFilter inner) : IEventFilter
    {
        public bool Matches(LogEntry entry)
        {
            inner.Matches(entry);
            return false;
        }
    }

    [Fact]
    public async Task Reopen_RemembersIdsWithinTheDedupWindow_AndForgetsThemAfter()
    {
        var time = new ManualTimeProvider();
        var options = OptionsOnOneFile();
        options.DedupWindow = TimeSpan.FromMinutes(5);
        var first = Open(options, time);
        await first.AppendAsync([DraftAt("a", "x", time.GetUtcNow())]);
        await CloseAsync(first);

        time.Advance(TimeSpan.FromMinutes(4));
        var second = Open(options, time);
        try
        {
            var within = await second.AppendAsync([DraftAt("a", "x", time.GetUtcNow())]);
            Assert.Equal((1L, true), (within[0].Sequence, within[0].Duplicate));
            time.Advance(TimeSpan.FromMinutes(2));
            var after = await second.AppendAsync([DraftAt("a", "x", time.GetUtcNow())]);
            Assert.Equal((2L, false), (after[0].Sequence, after[0].Duplicate));
        }
        finally
        {
            await CloseAsync(second);
        }
    }

    [Fact]
    public async Task Retention_ByAge_DropsEventsOlderThanMaxAge_InTheBackground()
    {
        var time = new ManualTimeProvider();
        var log = Open(OptionsOnOneFile(maxAge: TimeSpan.FromMinutes(1)), time);
        try
        {
            await log.AppendAsync([DraftAt("a", null, time.GetUtcNow()), DraftAt("a", null, time.GetUtcNow()), DraftAt("a", null, time.GetUtcNow())]);
            time.Advance(TimeSpan.FromMinutes(2));
            await log.AppendAsync([DraftAt("a", null, time.GetUtcNow()), DraftAt("a", null, time.GetUtcNow())]);
            await Eventually.TrueAsync(() => log.FirstRetained == 4, $"events older than MaxAge are dropped (FirstRetained is {log.FirstRetained})", Deadline);
            var entries = new List<LogEntry>();
            var read = await log.ReadAsync(0, null, 100, int.MaxValue, entries);
            Assert.True(read.Truncated);
            Assert.Equal(4, read.FirstRetained);
            Assert.Equal([4L, 5L], (await ReadAllAsync(log, after: 3)).Select(e => e.Sequence));
        }
        finally
        {
            await CloseAsync(log);
        }
    }

    [Fact]
    public async Task Reopen_AfterRetentionDroppedEverything_NeverReusesASequence()
    {
        var time = new ManualTimeProvider();
        var options = OptionsOnOneFile(maxAge: TimeSpan.FromMinutes(1));
        var first = Open(options, time);
        await first.AppendAsync([DraftAt("a", null, time.GetUtcNow()), DraftAt("a", null, time.GetUtcNow())]);
        time.Advance(TimeSpan.FromMinutes(2));
        await Eventually.TrueAsync(() => first.FirstRetained == 3, $"every event is dropped (FirstRetained is {first.FirstRetained})", Deadline);
        await CloseAsync(first);

        var second = Open(options, time);
        try
        {
            Assert.Equal(2, second.Head);
            Assert.Equal(3, second.FirstRetained);
            Assert.Equal(3, (await second.AppendAsync([DraftAt("a", null, time.GetUtcNow())]))[0].Sequence);
        }
        finally
        {
            await CloseAsync(second);
        }
    }

    [Fact]
    public async Task Reopen_AfterCountRetention_StartsAtTheFirstRetainedEvent()
    {
        var options = OptionsOnOneFile(maxEvents: 10);
        var first = Open(options, TimeProvider.System);
        await first.AppendAsync(Drafts(25));
        await Eventually.TrueAsync(() => first.FirstRetained == 16, $"retention by count (FirstRetained is {first.FirstRetained})", Deadline);
        await CloseAsync(first);

        var second = Open(options, TimeProvider.System);
        try
        {
            Assert.Equal((25L, 16L), (second.Head, second.FirstRetained));
            Assert.Equal(Enumerable.Range(16, 10).Select(i => (long)i), (await ReadAllAsync(second, after: 15)).Select(e => e.Sequence));
        }
        finally
        {
            await CloseAsync(second);
        }
    }
    [Fact]
    public async Task Reopen_KeepsIdempotencyKeysPerSubject_GroupPositionsPerIdentity_AndTheTopicsBound()
    {
        var options = OptionsOnOneFile();
        options.MaxTopics = 10;
        var first = Open(options, TimeProvider.System);
        var a = await first.AppendAsync([Draft("a.x", null, "A")], new IdempotencyKey("tenant-a", "k1"));
        var b = await first.AppendAsync([Draft("b.x", null, "B")], new IdempotencyKey("tenant-b", "k1"));
        await first.AppendAsync(Enumerable.Range(0, 12).Select(i => Draft($"t{i:D2}")).ToArray());
        var topicsBefore = first.GetTopics();
        Assert.True(first.SaveGroupPosition(new GroupKey("billing", "aaaa"), new GroupPosition(5, 6)));
        Assert.True(first.SaveGroupPosition(new GroupKey("billing", "bbbb"), new GroupPosition(7, 7), live: false));
        await CloseAsync(first);

        var second = Open(options, TimeProvider.System);
        try
        {
            Assert.Equal(a, await second.AppendAsync([Draft("z")], new IdempotencyKey("tenant-a", "k1")));
            Assert.Equal(b, await second.AppendAsync([Draft("z")], new IdempotencyKey("tenant-b", "k1")));
            Assert.Equal(15L, (await second.AppendAsync([Draft("c.x")], new IdempotencyKey("tenant-c", "k1")))[0].Sequence);
            Assert.Equal(new GroupPosition(5, 6), second.GetGroupPosition(new GroupKey("billing", "aaaa")));
            Assert.Equal(new GroupPosition(7, 7), second.GetGroupPosition(new GroupKey("billing", "bbbb")));
            Assert.Null(second.GetGroupPosition(new GroupKey("billing", "cccc")));
            Assert.Equal(9, topicsBefore.Count); // 14 topics, down to the bound less a tenth, the least recent first
            Assert.Equal(topicsBefore.Select(t => t.Topic).Append("c.x").Order(StringComparer.Ordinal), second.GetTopics().Select(t => t.Topic));
        }
        finally
        {
            await CloseAsync(second);
        }
    }

    [Fact]
    public async Task GroupPositions_OfGroupsGoneLongerThanMaxAge_AreRemovedFromTheFile_AndALiveOneAtCloseIsGoneFromTheReopen()
    {
        var time = new ManualTimeProvider();
        var maxAge = TimeSpan.FromHours(2);
        var options = OptionsOnOneFile(maxAge: maxAge);
        var gone = new GroupKey("gone", "aaaa");
        var live = new GroupKey("live", "bbbb");
        var first = Open(options, time);
        Assert.True(first.SaveGroupPosition(gone, new GroupPosition(1, 1), live: false));
        Assert.True(first.SaveGroupPosition(live, new GroupPosition(2, 2)));
        time.Advance(maxAge + TimeSpan.FromMinutes(2));
        await Eventually.TrueAsync(() => first.GetGroupPosition(gone) is null, "the gone group's position removed", Deadline);
        Assert.Equal(new GroupPosition(2, 2), first.GetGroupPosition(live));
        await CloseAsync(first);

        var second = Open(options, time);
        try
        {
            Assert.Null(second.GetGroupPosition(gone)); // removed from the file, not only from memory
            Assert.Equal(new GroupPosition(2, 2), second.GetGroupPosition(live));

            // It had members when the log closed: it is gone from the reopen on, and forgotten MaxAge later.
            time.Advance(maxAge - TimeSpan.FromMinutes(2));
            Assert.Equal(new GroupPosition(2, 2), second.GetGroupPosition(live));
            time.Advance(TimeSpan.FromMinutes(4));
            await Eventually.TrueAsync(() => second.GetGroupPosition(live) is null, "the position of the group live at close removed", Deadline);
        }
        finally
        {
            await CloseAsync(second);
        }
    }

    [Fact]
    public async Task UnversionedFile_IsMigrated_ItsKeysBecomeTheAnonymousSubjects_ItsGroupPositionsAreDropped()
    {
        var options = OptionsOnOneFile();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using (var connection = new SqliteConnection($"Data Source={options.Sqlite.Path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            // The schema as it was before versions (user_version 0), with one event, its key and a group's position.
            command.CommandText = $$"""
                CREATE TABLE events (sequence INTEGER PRIMARY KEY, topic TEXT NOT NULL, type TEXT, id TEXT, key TEXT, time INTEGER NOT NULL, json BLOB NOT NULL);
                CREATE TABLE dedup (topic TEXT NOT NULL, id TEXT NOT NULL, sequence INTEGER NOT NULL, time INTEGER NOT NULL, PRIMARY KEY (topic, id)) WITHOUT ROWID;
                CREATE TABLE idempotency (key TEXT PRIMARY KEY, answer TEXT NOT NULL, time INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE topics (topic TEXT PRIMARY KEY, count INTEGER NOT NULL, last_sequence INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE group_positions (name TEXT PRIMARY KEY, acknowledged INTEGER NOT NULL, handed INTEGER NOT NULL) WITHOUT ROWID;
                INSERT INTO events VALUES (1, 'a', 't', NULL, NULL, {{now}}, CAST('{"sequence":1,"topic":"a"}' AS BLOB));
                INSERT INTO topics VALUES ('a', 1, 1);
                INSERT INTO idempotency VALUES ('k1', '[{"Sequence":1,"Topic":"a","Id":null,"Duplicate":false}]', {{now}});
                INSERT INTO group_positions VALUES ('billing', 1, 1);
                """;
            command.ExecuteNonQuery();
        }

        var log = Open(options, TimeProvider.System);
        try
        {
            Assert.Equal(new[] { new AppendedEvent(1, "a", null, false) }, await log.AppendAsync([Draft("z")], new IdempotencyKey(IdempotencyKey.Anonymous, "k1")));
            Assert.Equal(1, log.Head);
            Assert.Equal(2L, (await log.AppendAsync([Draft("z")], new IdempotencyKey("tenant", "k1")))[0].Sequence);
        }
        finally
        {
            await CloseAsync(log);
        }

        using (var connection = new SqliteConnection($"Data Source={options.Sqlite.Path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT (SELECT count(*) FROM group_positions), (SELECT group_concat(subject || '/' || key, ',') FROM (SELECT subject, key FROM idempotency ORDER BY subject)), (SELECT user_version FROM pragma_user_version)";
            using var reader = command.ExecuteReader();
            Assert.True(reader.Read());
            Assert.Equal((0L, "/k1,tenant/k1", 1L), (reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2)));
        }
    }

    [Fact]
    public void FileFromANewerHub_IsRefused_NamingThePathAndTheSetting()
    {
        var options = OptionsOnOneFile();
        using (var connection = new SqliteConnection($"Data Source={options.Sqlite.Path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 2";
            command.ExecuteNonQuery();
        }

        var error = Assert.Throws<HubStartupException>(() => Open(options, TimeProvider.System));
        Assert.Contains(options.Sqlite.Path, error.Message, StringComparison.Ordinal);
        Assert.Contains("Hub:Log:Sqlite:Path", error.Message, StringComparison.Ordinal);
        Assert.Contains("schema version 2", error.Message, StringComparison.Ordinal);
    }
}
