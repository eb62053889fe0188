using System.Text;
using System.Text.Json;
using Hub.Server.Log;
using Microsoft.Extensions.Options;

namespace Hub.Server.Tests.Log;

public sealed class MemoryEventLogTests
{
    private static MemoryEventLog Create(int maxEvents = 100, TimeProvider? time = null) =>
        new(Options.Create(new EventLogOptions { Retention = new() { MaxEvents = maxEvents } }), time);

    private static EventDraft Draft(string topic, string? id = null) =>
        new(topic, "t", id, null, DateTimeOffset.UtcNow, Encoding.UTF8.GetBytes($"{{\"topic\":\"{topic}\"}}"));

    [Fact]
    public async Task Append_AssignsConsecutiveSequences_AndWritesTheEnvelopeOnce()
    {
        var log = Create();
        var appended = await log.AppendAsync([Draft("a"), Draft("b")]);
        Assert.Equal([1L, 2L], appended.Select(a => a.Sequence));
        Assert.Equal(2, log.Head);
        var read = new List<LogEntry>();
        await log.ReadAsync(0, null, 10, int.MaxValue, read);
        using var json = JsonDocument.Parse(read[1].Json);
        Assert.Equal(2, json.RootElement.GetProperty("sequence").GetInt64());
        Assert.Equal("b", json.RootElement.GetProperty("topic").GetString());
    }

    [Fact]
    public async Task Append_EmptyBody_StillMakesValidJson()
    {
        var log = Create();
        await log.AppendAsync([new EventDraft("a", null, null, null, DateTimeOffset.UtcNow, "{}"u8.ToArray())]);
        var read = new List<LogEntry>();
        await log.ReadAsync(0, null, 10, int.MaxValue, read);
        Assert.Equal("{\"sequence\":1}", Encoding.UTF8.GetString(read[0].Json));
    }

    [Fact]
    public async Task Append_SameTopicAndId_AnswersTheFirstSequence_WithinTheWindowOnly()
    {
        var time = new ManualTime();
        var log = Create(time: time);
        await log.AppendAsync([Draft("a", "x")]);
        var again = await log.AppendAsync([Draft("a", "x"), Draft("b", "x"), Draft("a", "x")]);
        Assert.Equal([(1L, true), (2L, false), (1L, true)], again.Select(a => (a.Sequence, a.Duplicate)));
        Assert.Equal(2, log.Head);
        time.Advance(EventLogOptions.DefaultDedupWindow + TimeSpan.FromSeconds(1));
        var later = await log.AppendAsync([Draft("a", "x")]);
        Assert.Equal((3L, false), (later[0].Sequence, later[0].Duplicate));
    }

    [Fact]
    public async Task Retention_KeepsTheLastMaxEvents_AndReportsTruncation()
    {
        var log = Create(maxEvents: 10);
        await log.AppendAsync(Enumerable.Range(0, 25).Select(_ => Draft("a")).ToArray());
        Assert.Equal(16, log.FirstRetained);
        var read = new List<LogEntry>();
        var result = await log.ReadAsync(3, null, 100, int.MaxValue, read);
        Assert.True(result.Truncated);
        Assert.Equal(16, result.FirstRetained);
        Assert.Empty(read);
        result = await log.ReadAsync(15, null, 100, int.MaxValue, read);
        Assert.False(result.Truncated);
        Assert.Equal(Enumerable.Range(16, 10).Select(i => (long)i), read.Select(e => e.Sequence));
        Assert.Equal(25, result.ScannedTo);
    }

    [Fact]
    public async Task Read_StopsAtMaxEvents_OrOnceMaxBytesIsReached()
    {
        var log = Create();
        await log.AppendAsync(Enumerable.Range(0, 10).Select(_ => Draft("a")).ToArray());
        var read = new List<LogEntry>();
        var byCount = await log.ReadAsync(0, null, 3, int.MaxValue, read);
        Assert.Equal((3, 3L), (read.Count, byCount.ScannedTo));
        read.Clear();
        var one = (await log.ReadAsync(0, null, 1, int.MaxValue, [])).ScannedTo;
        var byBytes = await log.ReadAsync(0, null, 100, 1, read);
        Assert.Equal((1, one), (read.Count, byBytes.ScannedTo)); // at least one, even over the byte budget
    }

    [Fact]
    public async Task Read_SkipsWhatTheFilterRejects_AndAdvancesPastIt()
    {
        var log = Create();
        await log.AppendAsync([Draft("a"), Draft("b"), Draft("b"), Draft("a")]);
        var read = new List<LogEntry>();
        var result = await log.ReadAsync(0, new TopicIs("b"), 10, int.MaxValue, read);
        Assert.Equal([2L, 3L], read.Select(e => e.Sequence));
        Assert.Equal(4, result.ScannedTo);
    }

    [Fact]
    public async Task ListenOnce_IsToldOfTheNextAppend_Once()
    {
        var log = Create();
        var listener = new CountingListener();
        log.ListenOnce(listener);
        await log.AppendAsync([Draft("a")]);
        await log.AppendAsync([Draft("a")]);
        Assert.Equal(1, listener.Count);
    }

    [Fact]
    public async Task Topics_CountEveryEventAndRememberTheLast()
    {
        var log = Create(maxEvents: 2);
        await log.AppendAsync([Draft("b"), Draft("a"), Draft("b")]);
        Assert.Equal([new TopicStats("a", 1, 2), new TopicStats("b", 2, 3)], log.GetTopics());
    }

    private sealed class TopicIs(string topic) : IEventFilter
    {
        public bool Matches(LogEntry entry) => entry.Topic == topic;
    }

    private sealed class CountingListener : IAppendListener
    {
        public int Count;

        public void OnAppended() => Interlocked.Increment(ref Count);
    }

    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public void Advance(TimeSpan by) => _now += by;

        public override DateTimeOffset GetUtcNow() => _now;
    }
}
