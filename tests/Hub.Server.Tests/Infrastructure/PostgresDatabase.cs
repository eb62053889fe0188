using Npgsql;

namespace Hub.Server.Tests.Infrastructure;

/// <summary>
/// A database of one test's own on a test cluster (<see cref="PostgresCluster"/>): created empty, dropped (its sessions
/// ended) when disposed, so that tests running at once never see each other's tables, notifications or advisory locks.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    private readonly string _server;

    private PostgresDatabase(string server, string name)
    {
        _server = server;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
    }

    /// <summary>Its name: <c>hub_test_</c> and 32 hex digits.</summary>
    public string Name { get; }

    /// <summary>Its connection string (Npgsql syntax), as a hub's <c>Hub:Log:Postgres:ConnectionString</c>.</summary>
    public string ConnectionString { get; }

    /// <summary>A new database on the cluster test.sh started.</summary>
    public static Task<PostgresDatabase> CreateAsync() => CreateAsync(PostgresCluster.Shared.ConnectionString);

    /// <summary>A new database on the server <paramref name="server"/> connects to.</summary>
    public static async Task<PostgresDatabase> CreateAsync(string server)
    {
        var database = new PostgresDatabase(server, "hub_test_" + Guid.NewGuid().ToString("N"));
        await database.ExecuteOnServerAsync($"CREATE DATABASE {database.Name}");
        return database;
    }

    /// <summary>A new database on the cluster test.sh started, made synchronously (for a log factory that is not async).</summary>
    public static PostgresDatabase Create()
    {
        var database = new PostgresDatabase(PostgresCluster.Shared.ConnectionString, "hub_test_" + Guid.NewGuid().ToString("N"));
        using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(database._server) { Pooling = false }.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand($"CREATE DATABASE {database.Name}", connection);
        command.ExecuteNonQuery();
        return database;
    }

    /// <summary>Runs <paramref name="sql"/> in this database (for a test that looks at, or damages, what a log stored).</summary>
    public async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    /// <summary>Drops the database, ending whatever sessions still use it.</summary>
    public async ValueTask DisposeAsync()
    {
        await ExecuteOnServerAsync($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
    }

    private async Task ExecuteOnServerAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_server) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
