using Microsoft.Data.Sqlite;

namespace Hub.Server.Log.Sqlite;

/// <summary>The database's tables and settings; applied at every start (idempotent).</summary>
internal static class SqliteSchema
{
    public static void Apply(SqliteConnection connection, string synchronous)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode = WAL";
        var mode = command.ExecuteScalar() as string;
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"the database did not switch to WAL mode (it answered '{mode}')");
        }

        command.CommandText = $"""
            PRAGMA synchronous = {(string.Equals(synchronous, "Normal", StringComparison.OrdinalIgnoreCase) ? "NORMAL" : "FULL")};
            PRAGMA busy_timeout = 10000;
            CREATE TABLE IF NOT EXISTS events (
                sequence INTEGER PRIMARY KEY,
                topic TEXT NOT NULL,
                type TEXT,
                id TEXT,
                key TEXT,
                time INTEGER NOT NULL,
                json BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS dedup (
                topic TEXT NOT NULL,
                id TEXT NOT NULL,
                sequence INTEGER NOT NULL,
                time INTEGER NOT NULL,
                PRIMARY KEY (topic, id)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS idempotency (
                key TEXT PRIMARY KEY,
                answer TEXT NOT NULL,
                time INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS topics (
                topic TEXT PRIMARY KEY,
                count INTEGER NOT NULL,
                last_sequence INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS meta (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS group_positions (
                name TEXT PRIMARY KEY,
                acknowledged INTEGER NOT NULL,
                handed INTEGER NOT NULL) WITHOUT ROWID;
            """;
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// The log's epoch, kept in the file: read when it has one; made and written when it has none (a new file, or one
    /// written before epochs existed), so every restart of the same file answers the same epoch and a new file a new one.
    /// </summary>
    public static string ReadOrCreateEpoch(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM meta WHERE key = 'epoch'";
        if (command.ExecuteScalar() is string { Length: > 0 } epoch)
        {
            return epoch;
        }

        epoch = LogEpoch.New();
        command.CommandText = "INSERT INTO meta (key, value) VALUES ('epoch', $epoch)";
        command.Parameters.AddWithValue("$epoch", epoch);
        command.ExecuteNonQuery();
        return epoch;
    }
}
