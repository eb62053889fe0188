using Hub.Log;
using Hub.Log.Postgres;
using Hub.Server.Tests.Infrastructure;

namespace Hub.Server.Tests.Log;

/// <summary>
/// The two-instance contract on PostgreSQL: two <see cref="PostgresEventLog"/>s (each under its node) on one database, as
/// two hub nodes: each with its own writer, listener and connections, told of the other's commits by notification.
/// </summary>
public sealed class PostgresTwoInstanceContractTests : TwoInstanceContractTests
{
    private readonly List<PostgresDatabase> _databases = [];

    protected override EventLogOptions NewStore()
    {
        var database = PostgresDatabase.Create();
        _databases.Add(database);
        var options = new EventLogOptions { Kind = EventLogOptions.KindPostgres };
        options.Postgres.ConnectionString = database.ConnectionString;
        return options;
    }

    protected override IEventLog OpenInstance(EventLogOptions options) => TestLogs.Postgres(options, options.Postgres.ConnectionString!);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        foreach (var database in _databases)
        {
            await database.DisposeAsync();
        }
    }
}
