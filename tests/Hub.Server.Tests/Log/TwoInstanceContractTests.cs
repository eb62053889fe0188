using System.Text;
using System.Text.Json;
using Hub.Log;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests.Log;

/// <summary>
/// The contract of a store several processes share (<see cref="IEventStore"/>), run on every engine that allows two
/// instances on one store: two logs (each an engine's store under its own node, <see cref="LogTail"/>) opened on one
/// store, as two hub processes would. Appends from both get one sequence each, readers on both see one order with no
/// skips and no repeats, dedup and idempotency hold across them, and the feed wakes the other instance's readers.
/// </summary>
public abstract class TwoInstanceContractTests : IAsyncLifetime
{
    protected static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset At = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    private readonly List<IEventLog> _logs = [];

    /// <summary>Options naming a new, empty store that several instances can open.</summary>
    protected abstract EventLogOptions NewStore();

    /// <summary>Opens one more instance (a store under its node) on the store <paramref name="options"/> name.</summary>
    protected abstract IEventLog OpenInstance(EventLogOptions options);

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var log in _logs)
        {
            if (log is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync();
            }
        }
    }

    private (IEventLog A, IEventLog B) OpenTwo()
    {
        var options = NewStore();
        var a = OpenInstance(options);
        _logs.Add(a);
        var b = OpenInstance(options);
        _logs.Add(b);
        return (a, b);
    }

    protected static EventDraft Draft(string topic, string? id = null, string? marker = null)
    {
        var body = new StringBuilder("{\"topic\":").Append(JsonSerializer.Serialize(topic));
        if (id is not null)
        {
            body.Append(",\"id\":").Append(JsonSerializer.Serialize(id));
        }

        body.Append(",\"data\":").Append(JsonSerializer.Serialize(marker ?? topic));
        return new EventDraft(topic, "t", id, null, At, Encoding.UTF8.GetBytes(body.Append('}').ToString()));
    }

    private static string Marker(LogEntry entry)
    {
        using var json = JsonDocument.Parse(entry.Json);
        return json.RootElement.GetProperty("data").GetString()!;
    }

    /// <summary>Everything after 0, read page by page as a subscriber would, checking there is no truncation.</summary>
    private static async Task<List<LogEntry>> ReadAllAsync(IEventLog log)
    {
        var entries = new List<LogEntry>();
        var after = 0L;
        for (var page = 0; page < 10_000 && after < log.Head; page++)
        {
            var read = await log.ReadAsync(after, null, 100, int.MaxValue, entries);
            Assert.False(read.Truncated, $"a read after {after} was truncated");
            after = read.ScannedTo;
        }

        return entries;
    }

    private static Task HeadIsAsync(IEventLog log, long head, string name) =>
        Eventually.TrueAsync(() => log.Head == head, $"{name}'s head reaches {head} (it is {log.Head})", Deadline);

    [Fact]
    public async Task AppendsFromBothAtOnce_GetOneSequenceEach_AndReadersOnBothSeeOneOrder_NoSkipsNoRepeats()
    {
        var (a, b) = OpenTwo();
        Assert.Equal(a.Epoch, b.Epoch);
        const int Batches = 60, PerBatch = 3;

        async Task<List<(long Sequence, string Marker)>> PublishAsync(IEventLog log, string name)
        {
            var answered = new List<(long, string)>();
            for (var i = 0; i < Batches; i++)
            {
                var drafts = Enumerable.Range(0, PerBatch).Select(j => Draft($"{name}.t{j % 2}", marker: $"{name}-{i}-{j}")).ToArray();
                var answers = await log.AppendAsync(drafts);
                answered.AddRange(answers.Select((x, j) => (x.Sequence, Marker: $"{name}-{i}-{j}")));
            }

            return answered;
        }

        var fromA = Task.Run(() => PublishAsync(a, "A"));
        var fromB = Task.Run(() => PublishAsync(b, "B"));
        var answered = (await fromA.WaitAsync(Deadline)).Concat(await fromB.WaitAsync(Deadline)).ToList();

        const long Total = 2 * Batches * PerBatch;
        Assert.Equal(Enumerable.Range(1, (int)Total).Select(i => (long)i), answered.Select(x => x.Sequence).Order());
        await HeadIsAsync(a, Total, "A");
        await HeadIsAsync(b, Total, "B");

        var onA = await ReadAllAsync(a);
        var onB = await ReadAllAsync(b);
        Assert.Equal(Enumerable.Range(1, (int)Total).Select(i => (long)i), onA.Select(e => e.Sequence));
        Assert.Equal(onA.Select(e => Encoding.UTF8.GetString(e.Json)), onB.Select(e => Encoding.UTF8.GetString(e.Json)));
        // Each event sits at the sequence its publisher was answered, and each publisher's events keep its order.
        Assert.Equal(answered.OrderBy(x => x.Sequence).Select(x => x.Marker), onA.Select(Marker));
        Assert.Equal(answered.Where(x => x.Marker.StartsWith("A-", StringComparison.Ordinal)).Select(x => x.Marker),
            onB.Select(Marker).Where(m => m.StartsWith("A-", StringComparison.Ordinal)));
        await Eventually.TrueAsync(() => a.GetTopics().SequenceEqual(b.GetTopics()), "the topic counters agree", Deadline);
        Assert.Equal(
            [new TopicStats("A.t0", 2 * Batches, onA.Last(e => e.Topic == "A.t0").Sequence), new TopicStats("A.t1", Batches, onA.Last(e => e.Topic == "A.t1").Sequence),
             new TopicStats("B.t0", 2 * Batches, onA.Last(e => e.Topic == "B.t0").Sequence), new TopicStats("B.t1", Batches, onA.Last(e => e.Topic == "B.t1").Sequence)],
            b.GetTopics());
    }

    [Fact]
    public async Task AnIdStoredByOne_IsADuplicateOnTheOther_AnsweringTheFirstSequence()
    {
        var (a, b) = OpenTwo();
        Assert.Equal([new AppendedEvent(1, "a", "x", false)], await a.AppendAsync([Draft("a", "x", "first")]));
        Assert.Equal([new AppendedEvent(1, "a", "x", true), new AppendedEvent(2, "a", "y", false)], await b.AppendAsync([Draft("a", "x", "again"), Draft("a", "y", "y")]));
        Assert.Equal([new AppendedEvent(2, "a", "y", true)], await a.AppendAsync([Draft("a", "y", "y again")]));
        Assert.Equal([new AppendedEvent(3, "b", "x", false)], await a.AppendAsync([Draft("b", "x", "other topic")]));
        await HeadIsAsync(b, 3, "B");
        Assert.Equal(["first", "y", "other topic"], (await ReadAllAsync(b)).Select(Marker));
    }

    [Fact]
    public async Task TheSameIdsFromBothAtOnce_AreStoredOnce_AndEveryAnswerNamesTheStoredOne()
    {
        var (a, b) = OpenTwo();
        const int Ids = 40;

        async Task<List<AppendedEvent>> PublishAsync(IEventLog log, string name)
        {
            var answers = new List<AppendedEvent>();
            for (var i = 0; i < Ids; i += 2)
            {
                answers.AddRange(await log.AppendAsync([Draft("a", $"id-{i}", $"{name}-{i}"), Draft("a", $"id-{i + 1}", $"{name}-{i + 1}")]));
            }

            return answers;
        }

        var fromA = Task.Run(() => PublishAsync(a, "A"));
        var fromB = Task.Run(() => PublishAsync(b, "B"));
        var answers = (await fromA.WaitAsync(Deadline)).Concat(await fromB.WaitAsync(Deadline)).ToList();
        await HeadIsAsync(a, Ids, "A");
        await HeadIsAsync(b, Ids, "B");

        var stored = await ReadAllAsync(b);
        Assert.Equal(Enumerable.Range(0, Ids).Select(i => $"id-{i}").Order(StringComparer.Ordinal), stored.Select(e => e.Id!).Order(StringComparer.Ordinal));
        var sequenceOf = stored.ToDictionary(e => e.Id!, e => e.Sequence);
        Assert.All(answers, x => Assert.Equal(sequenceOf[x.Id!], x.Sequence));
        Assert.Equal(Ids, answers.Count(x => !x.Duplicate)); // each id was new exactly once, on one instance or the other
    }

    [Fact]
    public async Task AnIdempotencyKeyAnsweredByOne_IsAnsweredTheSameByTheOther_AndStaysScopedToItsSubject()
    {
        var (a, b) = OpenTwo();
        var key = new IdempotencyKey("tenant-a", "k1");
        var first = await a.AppendAsync([Draft("a", marker: "A1"), Draft("a", marker: "A2")], key);
        Assert.Equal([new AppendedEvent(1, "a", null, false), new AppendedEvent(2, "a", null, false)], first);
        Assert.Equal(first, await b.AppendAsync([Draft("b", marker: "retried on B")], key));
        Assert.Equal([new AppendedEvent(3, "b", null, false)], await b.AppendAsync([Draft("b", marker: "B")], new IdempotencyKey("tenant-b", "k1")));
        Assert.Equal(first, await a.AppendAsync([Draft("c", marker: "retried on A")], key));
        await HeadIsAsync(a, 3, "A");
        Assert.Equal(["A1", "A2", "B"], (await ReadAllAsync(a)).Select(Marker));
    }

    [Fact]
    public async Task AnAppendOnOne_WakesTheOthersListeners_AndTheOthersReadersGetItsBytes()
    {
        var (a, b) = OpenTwo();
        var woken = new Woken();
        b.ListenOnce(woken);
        Assert.Equal(0, b.Head);

        await a.AppendAsync([Draft("a", marker: "from A")]);
        await woken.Task.WaitAsync(Deadline);
        Assert.Equal(1, b.Head);
        var onA = await ReadAllAsync(a);
        var onB = await ReadAllAsync(b);
        Assert.Equal("from A", Marker(Assert.Single(onB)));
        Assert.Equal(onA[0].Json, onB[0].Json);

        // And the other way round.
        var wokenA = new Woken();
        a.ListenOnce(wokenA);
        await b.AppendAsync([Draft("b", marker: "from B")]);
        await wokenA.Task.WaitAsync(Deadline);
        await HeadIsAsync(a, 2, "A");
        Assert.Equal(["from A", "from B"], (await ReadAllAsync(a)).Select(Marker));
    }

    private sealed class Woken : IAppendListener
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Task => _done.Task;

        public void OnAppended() => _done.TrySetResult();
    }
}
