using Hub.Log;
using Microsoft.Extensions.Options;

namespace Hub.Server.Tests.Log;

/// <summary>The <see cref="IEventLog"/> contract, run against <see cref="MemoryEventLog"/>.</summary>
public sealed class MemoryEventLogContractTests : EventLogContractTests
{
    protected override IEventLog CreateLog(EventLogOptions options, TimeProvider time) => TestLogs.Memory(options, time);
}
