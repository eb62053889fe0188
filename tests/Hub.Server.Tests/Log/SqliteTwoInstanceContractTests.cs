using Hub.Log;
using Microsoft.Data.Sqlite;

namespace Hub.Server.Tests.Log;

/// <summary>The two-instance contract on SQLite: two <c>SqliteEventLog</c>s (each under its node) on one file, each with
/// its own writer connection, as two hub processes on one file.</summary>
public sealed class SqliteTwoInstanceContractTests : TwoInstanceContractTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "hub-sqlite-two-" + Guid.NewGuid().ToString("N"));

    protected override EventLogOptions NewStore()
    {
        Directory.CreateDirectory(_directory);
        var options = new EventLogOptions();
        options.Sqlite.Path = Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".db");
        return options;
    }

    protected override IEventLog OpenInstance(EventLogOptions options) => TestLogs.Sqlite(options);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
