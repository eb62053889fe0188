using System.Text;
using Hub.Log;
using Hub.Log.Postgres;
using Hub.Server.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Hub.Server.Tests.Log;

/// <summary>
/// What only the PostgreSQL log promises, beyond the contract: the log outlives its nodes (close and open again), several
/// nodes share it (one schema, one epoch, heads told by notification, by the poll when a notification is lost, and again
/// after the listener's connection breaks), it refuses what it cannot use at start naming the setting, and it survives
/// PostgreSQL going away: appends refused with a Retry-After meanwhile, recovery by itself, no sequence reused.
/// </summary>
public sealed class PostgresEventLogTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset At = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    private readonly List<LogTail> _logs = [];
    private PostgresDatabase _database = null!;

    public async Task InitializeAsync() => _database = await PostgresDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        foreach (var log in _logs)
        {
            await log.DisposeAsync();
        }

        await _database.DisposeAsync();
    }

    private static EventLogOptions Settings(string connectionString, Action<EventLogOptions>? configure = null)
    {
        var options = new EventLogOptions { Kind = EventLogOptions.KindPostgres };
        options.Postgres.ConnectionString = connectionString;
        configure?.Invoke(options);
        return options;
    }

    /// <summary>A node: the store under its tail, closed after the test.</summary>
    private LogTail Open(Action<EventLogOptions>? configure = null, TimeProvider? time = null, string? connectionString = null)
    {
        var options = new EventLogOptions();
        configure?.Invoke(options);
        var log = TestLogs.Postgres(options, connectionString ?? _database.ConnectionString, time);
        _logs.Add(log);
        return log;
    }

    private async Task CloseAsync(LogTail log)
    {
        _logs.Remove(log);
        await log.DisposeAsync();
    }

    private static EventDraft Draft(string topic, string? id = null, string marker = "m", DateTimeOffset? time = null) =>
        new(topic, "t", id, null, time ?? At, Encoding.UTF8.GetBytes($"{{\"topic\":\"{topic}\",\"data\":\"{marker}\"}}"));

    private static async Task<List<LogEntry>> ReadAllAsync(IEventLog log, long after = 0)
    {
        var entries = new List<LogEntry>();
        while (true)
        {
            var read = await log.ReadAsync(after, null, int.MaxValue, int.MaxValue, entries);
            Assert.False(read.Truncated, $"a read after {after} was truncated (first retained {read.FirstRetained})");
            if (read.ScannedTo >= log.Head || read.ScannedTo == after)
            {
                return entries;
            }

            after = read.ScannedTo;
        }
    }

    private static string Text(LogEntry entry) => Encoding.UTF8.GetString(entry.Json);

    [Fact]
    public async Task Reopen_KeepsEventsByteForByte_TheHeadTopicsDedupAnswersGroupPositions_AndTheEpoch()
    {
        var first = Open();
        var ids = await first.AppendAsync([Draft("a", "x", "m1"), Draft("b", null, "m2")]);
        var keyed = await first.AppendAsync([Draft("a", null, "m3")], new IdempotencyKey("tenant", "k1"));
        Assert.True(first.SaveGroupPosition(new GroupKey("billing", "aaaa"), new GroupPosition(2, 3)));
        await Eventually.TrueAsync(async () => await _database.ScalarAsync("SELECT count(*) FROM hub_group_positions") is 1L, "the group position written");
        var before = await ReadAllAsync(first);
        var topics = first.GetTopics().OrderBy(t => t.Topic, StringComparer.Ordinal).ToArray();
        var epoch = first.Epoch;
        await CloseAsync(first);

        var second = Open();
        Assert.Equal((3L, 1L, epoch), (second.Head, second.FirstRetained, second.Epoch));
        Assert.Equal(before.Select(Text), (await ReadAllAsync(second)).Select(Text));
        Assert.Equal(topics, second.GetTopics().OrderBy(t => t.Topic, StringComparer.Ordinal));
        Assert.Equal(new GroupPosition(2, 3), second.GetGroupPosition(new GroupKey("billing", "aaaa")));
        Assert.Equal(ids[0] with { Duplicate = true }, (await second.AppendAsync([Draft("a", "x")]))[0]);
        Assert.Equal(keyed, await second.AppendAsync([Draft("z")], new IdempotencyKey("tenant", "k1")));
        Assert.Equal(4L, (await second.AppendAsync([Draft("c")]))[0].Sequence);

        // Still scoped after the reopen: another subject's k1 is another key, and the same group name with another
        // identity has no position to inherit.
        Assert.Equal(new[] { new AppendedEvent(5, "d", null, false) }, await second.AppendAsync([Draft("d")], new IdempotencyKey("other-tenant", "k1")));
        Assert.Null(second.GetGroupPosition(new GroupKey("billing", "bbbb")));
    }

    [Fact]
    public async Task TwoNodesStartingAtOnceOnAnEmptyDatabase_CreateTheSchemaOnce_AndShareOneEpoch()
    {
        var starting = Enumerable.Range(0, 3).Select(_ => Task.Run(() => Open())).ToArray();
        var nodes = await Task.WhenAll(starting);
        Assert.Single(nodes.Select(n => n.Epoch).Distinct());
        Assert.Equal(nodes[0].Epoch, await _database.ScalarAsync("SELECT value FROM hub_meta WHERE key = 'epoch'"));

        // Another database is another log: another epoch.
        await using var other = await PostgresDatabase.CreateAsync();
        Assert.NotEqual(nodes[0].Epoch, Open(connectionString: other.ConnectionString).Epoch);
    }

    [Fact]
    public async Task AnotherNodesAppends_AreToldByNotification_InOneOrder_WithTheSameEnvelopes()
    {
        // A poll of a minute: within the deadline, only a notification can tell the other node.
        var a = Open(o => o.Postgres.PollInterval = TimeSpan.FromMinutes(1));
        var b = Open(o => o.Postgres.PollInterval = TimeSpan.FromMinutes(1));
        await a.AppendAsync([Draft("x", marker: "a1"), Draft("y", marker: "a2")]);
        await b.AppendAsync([Draft("x", marker: "b1")]);
        await a.AppendAsync([Draft("z", marker: "a3")]);
        await Eventually.TrueAsync(() => a.Head == 4 && b.Head == 4, $"both nodes at head 4 (a {a.Head}, b {b.Head})", Deadline);
        var onA = await ReadAllAsync(a);
        Assert.Equal([1L, 2L, 3L, 4L], onA.Select(e => e.Sequence));
        Assert.Equal(onA.Select(Text), (await ReadAllAsync(b)).Select(Text));
        Assert.Equal(a.GetTopics().OrderBy(t => t.Topic, StringComparer.Ordinal), b.GetTopics().OrderBy(t => t.Topic, StringComparer.Ordinal));
    }

    [Fact]
    public async Task TwoSchemasInOneDatabase_AreTwoLogs_EachWithItsOwnTablesEpochAndChannel()
    {
        await _database.ScalarAsync("CREATE SCHEMA one; CREATE SCHEMA two;");
        var slow = (Action<EventLogOptions>)(o => o.Postgres.PollInterval = TimeSpan.FromMinutes(1));
        var one = Open(slow, connectionString: _database.ConnectionString + ";Search Path=one");
        var oneElsewhere = Open(slow, connectionString: _database.ConnectionString + ";Search Path=one");
        var two = Open(slow, connectionString: _database.ConnectionString + ";Search Path=two");
        await two.AppendAsync([Draft("b", marker: "two's")]);
        await one.AppendAsync([Draft("a"), Draft("a"), Draft("a")]);

        // The other node of log one is told by notification; log two's node, listening on its own channel, is not.
        await Eventually.TrueAsync(() => oneElsewhere.Head == 3, $"log one's other node told of head 3 (head {oneElsewhere.Head})", Deadline);
        Assert.Equal((1L, 1L), (two.Head, two.PostgresStore().Head));
        Assert.NotEqual(one.Epoch, two.Epoch);
        Assert.Equal((3L, 1L), ((long)(await _database.ScalarAsync("SELECT count(*) FROM one.hub_events"))!, (long)(await _database.ScalarAsync("SELECT count(*) FROM two.hub_events"))!));
    }

    [Fact]
    public async Task ACommitWhoseNotificationIsLost_IsFoundByThePoll()
    {
        var node = Open(o => o.Postgres.PollInterval = TimeSpan.FromMilliseconds(100));
        await node.AppendAsync([Draft("a", marker: "first")]);

        // Another writer's commit with no notification at all: only the poll can find it.
        await _database.ScalarAsync(
            "BEGIN; INSERT INTO hub_events (sequence, topic, type, id, key, time, body) " +
            $"VALUES (2, 'b', 't', NULL, NULL, {At.ToUnixTimeMilliseconds()}, convert_to('{{\"topic\":\"b\",\"data\":\"silent\"}}', 'UTF8')); " +
            "UPDATE hub_head SET head = 2; COMMIT;");
        await Eventually.TrueAsync(() => node.Head == 2, $"the poll finds head 2 (head {node.Head})", Deadline);
        var read = await ReadAllAsync(node, after: 1);
        Assert.Equal("{\"sequence\":2,\"topic\":\"b\",\"data\":\"silent\"}", Text(Assert.Single(read)));
    }

    [Fact]
    public async Task TheListenersConnectionBroken_TheNodeListensAgain_AndReadsWhatWasAppendedMeanwhile()
    {
        var listener = Open(o => o.Postgres.PollInterval = TimeSpan.FromMinutes(1));
        var writer = Open(o => o.Postgres.PollInterval = TimeSpan.FromMinutes(1));
        await writer.AppendAsync([Draft("a", marker: "before")]);
        await Eventually.TrueAsync(() => listener.Head == 1, "told of the first append", Deadline);

        // Its LISTEN connection ends (a failover, a proxy's idle timeout); appends go on meanwhile.
        var killed = await _database.ScalarAsync(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE '% listener'");
        Assert.Equal(2L, killed); // each node's listener
        await writer.AppendAsync([Draft("a", marker: "meanwhile")]);

        // Read again once connected (not the minute's poll), then told again by notification.
        await Eventually.TrueAsync(() => listener.Head == 2, $"the append made while it was not listening (head {listener.Head})", Deadline);
        await writer.AppendAsync([Draft("a", marker: "after")]);
        await Eventually.TrueAsync(() => listener.Head == 3, $"told of the append made after (head {listener.Head})", Deadline);
        Assert.Equal((await ReadAllAsync(writer)).Select(Text), (await ReadAllAsync(listener)).Select(Text));
    }

    [Fact]
    public async Task ConnectionString_Malformed_Unreachable_OrFromANewerHub_StopsTheStart_NamingTheSetting()
    {
        var malformed = Assert.Throws<HubStartupException>(() => new PostgresEventLog(Options.Create(Settings("Host=127.0.0.1;Bogus Key=1"))));
        Assert.StartsWith("Hub:Log:Postgres:ConnectionString", malformed.Message, StringComparison.Ordinal);

        var unreachable = new NpgsqlConnectionStringBuilder(_database.ConnectionString) { Port = 1, Timeout = 2 }.ConnectionString;
        var down = Assert.Throws<HubStartupException>(() => new PostgresEventLog(Options.Create(Settings(unreachable))));
        Assert.StartsWith("Hub:Log:Postgres:ConnectionString", down.Message, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:1/", down.Message, StringComparison.Ordinal);

        Open();
        await _database.ScalarAsync("UPDATE hub_meta SET value = '3' WHERE key = 'schema_version'");
        var newer = Assert.Throws<HubStartupException>(() => new PostgresEventLog(Options.Create(Settings(_database.ConnectionString))));
        Assert.StartsWith("Hub:Log:Postgres:ConnectionString", newer.Message, StringComparison.Ordinal);
        Assert.Contains("schema version 3", newer.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Password", newer.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task TextPostgresCannotStore_IsRefusedAlone_BeforeItIsQueued_AndTheLogStaysWritable()
    {
        var log = Open();
        var nul = await Assert.ThrowsAsync<ArgumentException>(async () => await log.AppendAsync([Draft("a", "x\0y")]));
        Assert.Contains("id", nul.Message, StringComparison.Ordinal);
        var surrogate = await Assert.ThrowsAsync<ArgumentException>(async () => await log.AppendAsync([Draft("a")], new IdempotencyKey("s", "k\ud800")));
        Assert.Contains("Idempotency-Key", surrogate.Message, StringComparison.Ordinal);
        Assert.Equal(1L, (await log.AppendAsync([Draft("a", "x\ud83d\ude00y")]))[0].Sequence); // a pair is fine
        Assert.Equal(LogState.Writable, (await log.CheckHealthAsync()).State);
    }

    [Fact]
    public async Task RetentionByAge_OnOneNode_IsSeenByTheOther_WhoseEarlierReadsAreTruncated()
    {
        var time = new ManualTimeProvider();
        var a = Open(o => { o.Retention.MaxAge = TimeSpan.FromMinutes(1); o.Postgres.PollInterval = TimeSpan.FromMilliseconds(100); }, time);
        var b = Open(o => { o.Retention.MaxAge = TimeSpan.FromMinutes(1); o.Postgres.PollInterval = TimeSpan.FromMilliseconds(100); }, time);
        await a.AppendAsync([Draft("a", time: time.GetUtcNow()), Draft("a", time: time.GetUtcNow())]);
        time.Advance(TimeSpan.FromMinutes(2));
        await b.AppendAsync([Draft("a", marker: "young", time: time.GetUtcNow())]);
        await Eventually.TrueAsync(() => a.FirstRetained == 3 && b.FirstRetained == 3, $"both nodes start at 3 (a {a.FirstRetained}, b {b.FirstRetained})", Deadline);
        Assert.Equal(1L, await _database.ScalarAsync("SELECT count(*) FROM hub_events"));
        var entries = new List<LogEntry>();
        Assert.Equal(new LogRead(0, Truncated: true, 3), await b.ReadAsync(0, null, 10, int.MaxValue, entries));
        Assert.Empty(entries);
        Assert.Equal([3L], (await ReadAllAsync(a, after: 2)).Select(e => e.Sequence));
    }

    [Fact]
    public async Task PostgresStopped_AppendsAreRefusedWithRetryAfter_TheLogIsUnwritable_AndWhenItReturnsTheLogRecoversByItself_ReusingNoSequence()
    {
        await using var cluster = await PostgresCluster.StartOwnAsync();
        var database = await cluster.CreateDatabaseAsync(); // removed with its cluster
        var log = Open(connectionString: database.ConnectionString);
        Assert.Equal([1L, 2L], (await log.AppendAsync([Draft("a", "x"), Draft("a")])).Select(a => a.Sequence));

        await cluster.StopAsync();
        var refused = await Assert.ThrowsAsync<LogUnavailableException>(async () => await log.AppendAsync([Draft("a", marker: "while down")]));
        Assert.True(refused.RetryAfter > TimeSpan.Zero);
        Assert.Equal(LogState.Unwritable, (await log.CheckHealthAsync()).State);

        // Back: the probe finds it with no append retrying, and the log goes on after what was acknowledged.
        await cluster.StartAsync();
        await Eventually.TrueAsync(async () => (await log.CheckHealthAsync()).State == LogState.Writable, "writable again by itself", Deadline);
        Assert.Equal(new AppendedEvent(1, "a", "x", Duplicate: true), (await log.AppendAsync([Draft("a", "x")]))[0]);
        Assert.Equal(3L, (await log.AppendAsync([Draft("a", marker: "after")]))[0].Sequence);
        Assert.Equal(["m", "m", "after"], (await ReadAllAsync(log)).Select(e => Text(e).Split("\"data\":\"")[1].TrimEnd('"', '}')));
    }
}
