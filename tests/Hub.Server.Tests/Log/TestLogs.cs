using Hub.Log;
using Hub.Log.Postgres;
using Hub.Log.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Hub.Server.Tests.Log;

/// <summary>Logs as the hub builds them: an engine's store under a node's <see cref="LogTail"/>.</summary>
internal static class TestLogs
{
    public static LogTail Memory(EventLogOptions options, TimeProvider? time = null) =>
        new(new MemoryEventLog(Options.Create(options), time), options, MemoryEventLog.TailCapacity(options));

    /// <summary>
    /// A memory log whose node tail and store keep only <paramref name="hotCapacity"/> entries as objects: every older
    /// read goes to the store's cold segments (<see cref="EventSegments"/>).
    /// </summary>
    public static LogTail MemoryCold(EventLogOptions options, TimeProvider? time = null, int hotCapacity = 2) =>
        new(new MemoryEventLog(Options.Create(options), time, null, hotCapacity), options, Math.Min(hotCapacity, options.Retention.MaxEvents));

    public static LogTail Sqlite(EventLogOptions options, TimeProvider? time = null, ILogger<SqliteEventLog>? logger = null) =>
        new(new SqliteEventLog(Options.Create(options), time ?? TimeProvider.System, logger ?? NullLogger<SqliteEventLog>.Instance), options, SqliteEventLog.TailCapacity(options));

    /// <summary>A node on the PostgreSQL database <paramref name="connectionString"/> names (its store under its tail).</summary>
    public static LogTail Postgres(EventLogOptions options, string connectionString, TimeProvider? time = null, ILogger<PostgresEventLog>? logger = null)
    {
        options.Kind = EventLogOptions.KindPostgres;
        options.Postgres.ConnectionString = connectionString;
        return new(new PostgresEventLog(Options.Create(options), time ?? TimeProvider.System, logger ?? NullLogger<PostgresEventLog>.Instance), options, PostgresEventLog.TailCapacity(options));
    }

    /// <summary>The PostgreSQL store under a node's log.</summary>
    public static PostgresEventLog PostgresStore(this IEventLog log) => (PostgresEventLog)((LogTail)log).Store;

    /// <summary>The SQLite store under a node's log.</summary>
    public static SqliteEventLog SqliteStore(this IEventLog log) => (SqliteEventLog)((LogTail)log).Store;
}
