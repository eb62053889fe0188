using Npgsql;

namespace Hub.Server.Tests.Infrastructure;

/// <summary>
/// A fresh, empty PostgreSQL database for one test class (an xunit class fixture), on the throwaway cluster
/// <c>./test.sh</c> starts (its connection string in <see cref="ServerVariable"/>), or on a <see cref="PostgresCluster"/>
/// a test gives it; dropped, with whatever sessions still hold it, when the class is done. Without a server the fixture
/// fails, naming the variable: a test is never skipped for lack of one.
/// </summary>
public sealed class PostgresDatabase : IAsyncLifetime
{
    /// <summary>The environment variable with the connection string of the test cluster's maintenance database.</summary>
    public const string ServerVariable = "HUB_TEST_POSTGRES";

    private readonly string? _server;
    private string? _name;

    /// <summary>On the cluster <c>./test.sh</c> started.</summary>
    public PostgresDatabase()
    {
    }

    /// <summary>On the server <paramref name="serverConnectionString"/> names (a maintenance database there); not a
    /// fixture constructor (xunit wants one public constructor), for a test that makes its own.</summary>
    internal PostgresDatabase(string serverConnectionString) => _server = serverConnectionString;

    /// <summary>Npgsql's connection string to this database, as the hub nodes get it (<c>Hub:Log:Postgres:ConnectionString</c>).</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>The database's name (<c>hub_test_…</c>).</summary>
    public string Name => _name ?? throw new InvalidOperationException("The database is not created yet.");

    private string Server => _server ?? (Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } fromTestScript
        ? fromTestScript
        : throw new InvalidOperationException(
            $"{ServerVariable} is not set: run the tests with ./test.sh, which installs PostgreSQL and starts a throwaway " +
            $"cluster, or set {ServerVariable} to a connection string of a server where databases may be created and dropped."));

    public async Task InitializeAsync()
    {
        _name = "hub_test_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(Server))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {_name}", connection);
            await create.ExecuteNonQueryAsync();
        }

        ConnectionString = new NpgsqlConnectionStringBuilder(Server) { Database = _name, Pooling = true }.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        if (_name is null)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(Server);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
