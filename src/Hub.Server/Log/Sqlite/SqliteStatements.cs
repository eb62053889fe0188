using Microsoft.Data.Sqlite;

namespace Hub.Server.Log.Sqlite;

/// <summary>The writer's prepared statements, reused for every row; events go in <see cref="RowsPerInsert"/> rows per
/// statement, which costs the writer far less per event than one statement per row.</summary>
internal sealed class SqliteStatements : IDisposable
{
    internal const int RowsPerInsert = 32;
    private const int EventColumns = 7;
    private readonly SqliteCommand _insertEvent;
    private readonly SqliteCommand _insertEvents;
    private readonly SqliteCommand _insertDedup;
    private readonly SqliteCommand _insertIdempotency;
    private readonly SqliteCommand _upsertTopic;

    public SqliteStatements(SqliteConnection connection)
    {
        _insertEvent = Create(connection, "INSERT INTO events (sequence, topic, type, id, key, time, json) VALUES ($sequence, $topic, $type, $id, $key, $time, $json)",
            "$sequence", "$topic", "$type", "$id", "$key", "$time", "$json");
        var rows = Enumerable.Range(0, RowsPerInsert).Select(r => $"($s{r}, $t{r}, $y{r}, $i{r}, $k{r}, $m{r}, $j{r})");
        _insertEvents = Create(connection, "INSERT INTO events (sequence, topic, type, id, key, time, json) VALUES " + string.Join(", ", rows),
            [.. Enumerable.Range(0, RowsPerInsert).SelectMany(r => new[] { $"$s{r}", $"$t{r}", $"$y{r}", $"$i{r}", $"$k{r}", $"$m{r}", $"$j{r}" })]);
        _insertDedup = Create(connection, "INSERT OR REPLACE INTO dedup (topic, id, sequence, time) VALUES ($topic, $id, $sequence, $time)",
            "$topic", "$id", "$sequence", "$time");
        _insertIdempotency = Create(connection, "INSERT OR REPLACE INTO idempotency (key, answer, time) VALUES ($key, $answer, $time)",
            "$key", "$answer", "$time");
        _upsertTopic = Create(connection, "INSERT INTO topics (topic, count, last_sequence) VALUES ($topic, $count, $last) ON CONFLICT (topic) DO UPDATE SET count = count + excluded.count, last_sequence = excluded.last_sequence",
            "$topic", "$count", "$last");
    }

    public void Enlist(SqliteTransaction transaction)
    {
        _insertEvent.Transaction = transaction;
        _insertEvents.Transaction = transaction;
        _insertDedup.Transaction = transaction;
        _insertIdempotency.Transaction = transaction;
        _upsertTopic.Transaction = transaction;
    }

    /// <summary>Inserts the entries, <see cref="RowsPerInsert"/> to a statement, the rest one by one.</summary>
    public void InsertEvents(List<LogEntry> entries)
    {
        var i = 0;
        for (; i + RowsPerInsert <= entries.Count; i += RowsPerInsert)
        {
            for (var r = 0; r < RowsPerInsert; r++)
            {
                Bind(_insertEvents.Parameters, r * EventColumns, entries[i + r]);
            }

            _insertEvents.ExecuteNonQuery();
        }

        for (; i < entries.Count; i++)
        {
            Bind(_insertEvent.Parameters, 0, entries[i]);
            _insertEvent.ExecuteNonQuery();
        }
    }

    private static void Bind(SqliteParameterCollection p, int at, LogEntry entry)
    {
        p[at].Value = entry.Sequence;
        p[at + 1].Value = entry.Topic;
        p[at + 2].Value = (object?)entry.Type ?? DBNull.Value;
        p[at + 3].Value = (object?)entry.Id ?? DBNull.Value;
        p[at + 4].Value = (object?)entry.Key ?? DBNull.Value;
        p[at + 5].Value = entry.Time.ToUnixTimeMilliseconds();
        p[at + 6].Value = entry.Json;
    }

    public void InsertDedup(string topic, string id, long sequence, long time)
    {
        var p = _insertDedup.Parameters;
        p[0].Value = topic;
        p[1].Value = id;
        p[2].Value = sequence;
        p[3].Value = time;
        _insertDedup.ExecuteNonQuery();
    }

    public void InsertIdempotency(string key, string answer, long time)
    {
        var p = _insertIdempotency.Parameters;
        p[0].Value = key;
        p[1].Value = answer;
        p[2].Value = time;
        _insertIdempotency.ExecuteNonQuery();
    }

    public void UpsertTopic(string topic, long count, long last)
    {
        var p = _upsertTopic.Parameters;
        p[0].Value = topic;
        p[1].Value = count;
        p[2].Value = last;
        _upsertTopic.ExecuteNonQuery();
    }

    /// <summary>Reads a row of <c>SELECT sequence, topic, type, id, key, time, json</c>.</summary>
    public static LogEntry ReadEntry(SqliteDataReader reader) => new(
        reader.GetInt64(0),
        reader.GetString(1),
        reader.IsDBNull(2) ? null : reader.GetString(2),
        reader.IsDBNull(3) ? null : reader.GetString(3),
        reader.IsDBNull(4) ? null : reader.GetString(4),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
        (byte[])reader.GetValue(6));

    public void Dispose()
    {
        _insertEvent.Dispose();
        _insertEvents.Dispose();
        _insertDedup.Dispose();
        _insertIdempotency.Dispose();
        _upsertTopic.Dispose();
    }

    private static SqliteCommand Create(SqliteConnection connection, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        return command;
    }
}
