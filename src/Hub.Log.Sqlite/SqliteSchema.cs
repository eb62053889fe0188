using Microsoft.Data.Sqlite;

namespace Hub.Log.Sqlite;

/// <summary>
/// The database's tables and settings; applied at every start (idempotent). The schema's version is SQLite's
/// <c>user_version</c>: 0 is a new file or one written before versions (migrated here), <see cref="Version"/> is this
/// hub's, and a file from a newer hub is refused rather than misread.
/// </summary>
internal static class SqliteSchema
{
    /// <summary>
    /// 1: idempotency keys are scoped to their subject (<c>idempotency.subject</c>), group positions to the group's
    /// identity (<c>group_positions.identity</c>) with when the group was last gone (<c>gone</c>).
    /// </summary>
    public const int Version = 1;

    /// <summary>
    /// Creates or migrates the tables; returns what a migration had to leave behind, for the log to say. With
    /// <paramref name="skipFsync"/> (<c>Hub:Log:Sqlite:Durability</c> = <c>Process</c>) a commit is in the WAL file, in the
    /// kernel's cache, without waiting for the disk (<c>synchronous = NORMAL</c>; WAL checkpoints still fsync).
    /// </summary>
    public static SchemaMigration Apply(SqliteConnection connection, bool skipFsync)
    {
        using var command = connection.CreateCommand();
        // First: another process may hold the file's lock (a second hub on the same file); wait for it, up to 10 s.
        command.CommandText = "PRAGMA busy_timeout = 10000";
        command.ExecuteNonQuery();
        command.CommandText = "PRAGMA journal_mode = WAL";
        var mode = command.ExecuteScalar() as string;
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"the database did not switch to WAL mode (it answered '{mode}')");
        }

        command.CommandText = $"""
            PRAGMA synchronous = {(skipFsync ? "NORMAL" : "FULL")};
            """;
        command.ExecuteNonQuery();

        command.CommandText = "PRAGMA user_version";
        var version = Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        if (version > Version)
        {
            throw new InvalidOperationException($"the database was written by a newer hub (schema version {version}; this hub reads up to {Version})");
        }

        using var transaction = connection.BeginTransaction();
        command.Transaction = transaction;
        var migration = version == 0 ? MigrateFromUnversioned(command) : default;
        command.CommandText = $"""
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
                subject TEXT NOT NULL,
                key TEXT NOT NULL,
                answer TEXT NOT NULL,
                time INTEGER NOT NULL,
                PRIMARY KEY (subject, key)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS topics (
                topic TEXT PRIMARY KEY,
                count INTEGER NOT NULL,
                last_sequence INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS meta (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS group_positions (
                name TEXT NOT NULL,
                identity TEXT NOT NULL,
                acknowledged INTEGER NOT NULL,
                handed INTEGER NOT NULL,
                gone INTEGER,
                PRIMARY KEY (name, identity)) WITHOUT ROWID;
            PRAGMA user_version = {Version};
            """;
        command.ExecuteNonQuery();
        transaction.Commit();
        return migration;
    }

    /// <summary>
    /// A file from before versions: idempotency keys become the anonymous subject's (every key was, in effect, anyone's;
    /// a hub that asked for no credentials keeps them working), and group positions, whose groups' topics were never
    /// stored, are dropped: no group can prove it is the one that saved them.
    /// </summary>
    private static SchemaMigration MigrateFromUnversioned(SqliteCommand command)
    {
        var migration = default(SchemaMigration);
        if (HasTable(command, "idempotency") && !HasColumn(command, "idempotency", "subject"))
        {
            command.CommandText = $"""
                ALTER TABLE idempotency RENAME TO idempotency_unversioned;
                CREATE TABLE idempotency (
                    subject TEXT NOT NULL,
                    key TEXT NOT NULL,
                    answer TEXT NOT NULL,
                    time INTEGER NOT NULL,
                    PRIMARY KEY (subject, key)) WITHOUT ROWID;
                INSERT INTO idempotency (subject, key, answer, time)
                    SELECT '{IdempotencyKey.Anonymous}', key, answer, time FROM idempotency_unversioned;
                DROP TABLE idempotency_unversioned;
                """;
            command.ExecuteNonQuery();
        }

        if (HasTable(command, "group_positions") && !HasColumn(command, "group_positions", "identity"))
        {
            command.CommandText = "SELECT name FROM group_positions ORDER BY name";
            var names = new List<string>();
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    names.Add(reader.GetString(0));
                }
            }

            command.CommandText = "DROP TABLE group_positions";
            command.ExecuteNonQuery();
            migration = new SchemaMigration(names);
        }

        return migration;
    }

    private static bool HasTable(SqliteCommand command, string table)
    {
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $table";
        command.Parameters.Clear();
        command.Parameters.AddWithValue("$table", table);
        var found = Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
        command.Parameters.Clear();
        return found;
    }

    private static bool HasColumn(SqliteCommand command, string table, string column)
    {
        command.CommandText = "SELECT count(*) FROM pragma_table_info($table) WHERE name = $column";
        command.Parameters.Clear();
        command.Parameters.AddWithValue("$table", table);
        command.Parameters.AddWithValue("$column", column);
        var found = Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
        command.Parameters.Clear();
        return found;
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

        // Two processes opening a new file at once: the first insert wins, and both read the one that won.
        command.CommandText = "INSERT OR IGNORE INTO meta (key, value) VALUES ('epoch', $epoch); SELECT value FROM meta WHERE key = 'epoch'";
        command.Parameters.AddWithValue("$epoch", LogEpoch.New());
        return (string)command.ExecuteScalar()!;
    }
}

/// <summary>What a schema migration left behind.</summary>
/// <param name="DroppedGroupPositions">The names of groups whose positions, stored before group identities, were dropped.</param>
internal readonly record struct SchemaMigration(IReadOnlyList<string>? DroppedGroupPositions);
