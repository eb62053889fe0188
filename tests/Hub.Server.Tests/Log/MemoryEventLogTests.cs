using System.Text;
using Hub.Log;
using Microsoft.Extensions.Options;

namespace Hub.Server.Tests.Log;

/// <summary>
/// What only <see cref="MemoryEventLog"/> promises, beyond the contract every log keeps
/// (<see cref="MemoryEventLogContractTests"/>): its ring, its synchronous retention, its listener list.
/// </summary>
public sealed class MemoryEventLogTests
{
    private static MemoryEventLog Create(int maxEvents = 100) =>
        new(Options.Create(new EventLogOptions { Retention = new() { MaxEvents = maxEvents } }));

    private static LogTail CreateLog(int maxEvents = 100) => TestLogs.Memory(new EventLogOptions { Retention = new() { MaxEvents = maxEvents } });

    private static EventDraft Draft(string topic) =>
        new(topic, "t", null, null, DateTimeOffset.UtcNow, Encoding.UTF8.GetBytes($"{{\"topic\":\"{topic}\"}}"));

    [Fact]
    public void Capacity_IsMaxEvents()
    {
        Assert.Equal(7, Create(maxEvents: 7).Capacity);
    }

    [Fact]
    public async Task Retention_IsEnforcedByTheAppendItself()
    {
        var log = CreateLog(maxEvents: 10);
        await log.AppendAsync(Enumerable.Range(0, 25).Select(_ => Draft("a")).ToArray());
        Assert.Equal(16, log.FirstRetained); // no background work: the append that overflows the ring drops the oldest
    }

    [Fact]
    public async Task ListenOnce_ForgetsTheListenersItTold()
    {
        var log = CreateLog();
        log.ListenOnce(new NoopListener());
        log.ListenOnce(new NoopListener());
        Assert.Equal(2, log.ListenerCount);
        await log.AppendAsync([Draft("a")]);
        Assert.Equal(0, log.ListenerCount);
    }

    [Fact]
    public async Task Topics_CountEventsNoLongerRetained()
    {
        var log = CreateLog(maxEvents: 2);
        await log.AppendAsync([Draft("b"), Draft("a"), Draft("b")]);
        Assert.Equal([new TopicStats("a", 1, 2), new TopicStats("b", 2, 3)], log.GetTopics());
    }

    private sealed class NoopListener : IAppendListener
    {
        public void OnAppended()
        {
        }
    }
}
