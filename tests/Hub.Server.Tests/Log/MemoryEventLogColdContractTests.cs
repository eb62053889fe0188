using Hub.Log;

namespace Hub.Server.Tests.Log;

/// <summary>
/// The <see cref="IEventLog"/> contract, run against <see cref="MemoryEventLog"/> with a hot window of two entries: every
/// read past the newest two is served from the cold segments (bytes made into entries again), so the contract holds
/// there too.
/// </summary>
public sealed class MemoryEventLogColdContractTests : EventLogContractTests
{
    protected override IEventLog CreateLog(EventLogOptions options, TimeProvider time) => TestLogs.MemoryCold(options, time);
}
