using Hub.Log;
using Hub.Log.Sqlite;
using Microsoft.Data.Sqlite;

namespace Hub.Server.Tests.Log;

/// <summary>
/// What the SQLite log asks of SQLite: the durability setting becomes the writer's <c>synchronous</c> pragma, and the
/// head-and-first read the poll loop repeats every <c>PollInterval</c> is answered from the ends of the b-tree, never
/// by a scan of the events table (SQLite's query plan says which).
/// </summary>
public sealed class SqliteSchemaTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("hub-schema-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(_directory, "hub.db"), Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    [Theory]
    [InlineData("Flush", 2L)]   // FULL: fsync per commit
    [InlineData("flush", 2L)]
    [InlineData("Process", 1L)] // NORMAL: in WAL mode, no fsync per commit
    [InlineData("PROCESS", 1L)]
    public void Durability_SetsTheWritersSynchronousPragma(string durability, long synchronous)
    {
        var options = new EventLogOptions.SqliteOptions { Durability = durability };
        using var connection = Open();

        SqliteSchema.Apply(connection, options.SkipsFsync);

        Assert.Equal("wal", Scalar(connection, "PRAGMA journal_mode"));
        Assert.Equal(synchronous, Scalar(connection, "PRAGMA synchronous"));
    }

    [Fact]
    public void HeadAndFirst_SearchesBothEndsOfTheTable_AndNeverScansIt()
    {
        using var connection = Open();
        SqliteSchema.Apply(connection, skipFsync: true);

        using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + SqliteStatements.HeadAndFirstSql;
        var plan = new List<string>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                plan.Add(reader.GetString(3));
            }
        }

        Assert.Equal(2, plan.Count(step => step.StartsWith("SEARCH events", StringComparison.Ordinal)));
        Assert.DoesNotContain(plan, step => step.StartsWith("SCAN events", StringComparison.Ordinal));
    }

    [Fact]
    public void HeadAndFirst_AnswersTheLastAndFirstSequence_OrZerosWhenEmpty()
    {
        using var connection = Open();
        SqliteSchema.Apply(connection, skipFsync: true);
        Assert.Equal((0L, 0L), HeadAndFirst(connection));

        foreach (var sequence in new[] { 7L, 9L, 12L })
        {
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO events (sequence, topic, time, json) VALUES ($sequence, 'a', 0, x'7b7d')";
            insert.Parameters.AddWithValue("$sequence", sequence);
            insert.ExecuteNonQuery();
        }

        Assert.Equal((12L, 7L), HeadAndFirst(connection));
    }

    private static (long Head, long First) HeadAndFirst(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = SqliteStatements.HeadAndFirstSql;
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
