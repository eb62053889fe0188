using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Hub.Log.Sqlite;

/// <summary>
/// One statement prepared once on the writer's connection and run per row through SQLite's own API: parameters bound
/// by position, one step, one reset. Microsoft.Data.Sqlite's <see cref="SqliteCommand"/> looks every parameter up by
/// name and walks its statement list on each execution, which made up most of the writer's managed time at 45,000
/// events/s. It runs in the connection's open transaction like any command on that connection; a failure throws the
/// same <see cref="SqliteException"/> a command would (the log's failure handling reads its error code).
/// </summary>
internal sealed class RawStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;

    public RawStatement(SqliteConnection connection, string sql)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("the connection is not open");
        Check(raw.sqlite3_prepare_v2(_db, sql, out _statement));
    }

    public void Bind(int index, long value) => Check(raw.sqlite3_bind_int64(_statement, index, value));

    public void Bind(int index, string? value) =>
        Check(value is null ? raw.sqlite3_bind_null(_statement, index) : raw.sqlite3_bind_text(_statement, index, value));

    public void Bind(int index, ReadOnlySpan<byte> blob) => Check(raw.sqlite3_bind_blob(_statement, index, blob));

    /// <summary>Runs the statement once with what is bound, then makes it ready for the next row.</summary>
    public void Run()
    {
        var rc = raw.sqlite3_step(_statement);
        raw.sqlite3_reset(_statement);
        if (rc != raw.SQLITE_DONE && rc != raw.SQLITE_ROW)
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }
    }

    public void Dispose() => _statement.Dispose();

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }
    }
}
