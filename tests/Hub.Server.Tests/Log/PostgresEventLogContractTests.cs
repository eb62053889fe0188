using Hub.Log;
using Hub.Log.Postgres;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests.Log;

/// <summary>
/// The <see cref="IEventLog"/> contract, run against <see cref="PostgresEventLog"/> under a node's <see cref="LogTail"/>,
/// each log in a database of its own on the cluster test.sh starts (dropped after the test).
/// </summary>
public sealed class PostgresEventLogContractTests : EventLogContractTests
{
    private readonly List<PostgresDatabase> _databases = [];

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        foreach (var database in _databases)
        {
            await database.DisposeAsync();
        }
    }

    protected override IEventLog CreateLog(EventLogOptions options, TimeProvider time)
    {
        var database = PostgresDatabase.Create();
        _databases.Add(database);
        return TestLogs.Postgres(options, database.ConnectionString, time);
    }
}
