namespace Hub.Server.Tests.Infrastructure;

/// <summary>
/// A test class whose every test gets a fresh database of its own on the cluster test.sh started
/// (<see cref="PostgresDatabase"/>), dropped after the test.
/// </summary>
public abstract class FreshPostgresDatabase : IAsyncLifetime
{
    private PostgresDatabase? _database;

    /// <summary>This test's database.</summary>
    protected PostgresDatabase Database => _database ?? throw new InvalidOperationException("the database is made before the test runs");

    public async Task InitializeAsync() => _database = await PostgresDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
