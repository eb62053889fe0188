using System.Text;
using Hub.Server.Log;
using Hub.Server.Log.Sqlite;
using Hub.Server.Tests.Infrastructure;
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

    private static IEventLog Open(EventLogOptions options, TimeProvider time) =>
        new SqliteEventLog(Options.Create(options), time, NullLogger<SqliteEventLog>.Instance);

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
}
