using Microsoft.Data.Sqlite;

namespace Hub.Log.Sqlite;

/// <summary>The writer's prepared statements, reused for every row.</summary>
internal sealed class SqliteStatements : IDisposable
{
    /// <summary>
    /// The last and the first stored sequence (0 and 0 when empty). Each in a subquery of its own: SQLite answers a lone
    /// <c>max()</c> or <c>min()</c> of the primary key from the end of the b-tree, but <c>SELECT max(x), min(x) FROM
    /// events</c> scans every row (150 ms at 770,000 events, which the poll loop did every 20 ms while the log grew).
    /// </summary>
    internal const string HeadAndFirstSql = "SELECT coalesce((SELECT max(sequence) FROM events), 0), coalesce((SELECT min(sequence) FROM events), 0)";

    private readonly RawStatement _insertEvent;
    private readonly RawStatement _insertDedup;
    private readonly SqliteCommand _insertIdempotency;
    private readonly SqliteCommand _upsertTopic;
    private readonly SqliteCommand _storedId;
    private readonly SqliteCommand _storedAnswer;
    private readonly SqliteCommand _storedHead;
    private readonly SqliteCommand _dataVersion;

    public SqliteStatements(SqliteConnection connection)
    {
        // The two statements run once per event: prepared once, bound by position (?1…).
        _insertEvent = new RawStatement(connection, "INSERT INTO events (sequence, topic, type, id, key, time, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        _insertDedup = new RawStatement(connection, "INSERT OR REPLACE INTO dedup (topic, id, sequence, time) VALUES (?1, ?2, ?3, ?4)");
        _insertIdempotency = Create(connection, "INSERT OR REPLACE INTO idempotency (subject, key, answer, time) VALUES ($subject, $key, $answer, $time)",
            "$subject", "$key", "$answer", "$time");
        _upsertTopic = Create(connection, "INSERT INTO topics (topic, count, last_sequence) VALUES ($topic, $count, $last) ON CONFLICT (topic) DO UPDATE SET count = count + excluded.count, last_sequence = excluded.last_sequence",
            "$topic", "$count", "$last");
        _storedId = Create(connection, "SELECT sequence FROM dedup WHERE topic = $topic AND id = $id AND time >= $since", "$topic", "$id", "$since");
        _storedAnswer = Create(connection, "SELECT answer FROM idempotency WHERE subject = $subject AND key = $key AND time >= $since", "$subject", "$key", "$since");
        // The head survives retention deleting every row: the topics keep the last sequence (only ever read when events is empty).
        _storedHead = Create(connection, "SELECT coalesce((SELECT max(sequence) FROM events), (SELECT max(last_sequence) FROM topics), 0)");
        _dataVersion = Create(connection, "PRAGMA data_version");
    }

    public void Enlist(SqliteTransaction? transaction)
    {
        _insertIdempotency.Transaction = transaction;
        _upsertTopic.Transaction = transaction;
        _storedId.Transaction = transaction;
        _storedAnswer.Transaction = transaction;
        _storedHead.Transaction = transaction;
        _dataVersion.Transaction = transaction;
    }

    /// <summary>The sequence stored for <c>(topic, id)</c> since <paramref name="since"/>, by any writer of the file.</summary>
    public long? StoredId(string topic, string id, long since)
    {
        var p = _storedId.Parameters;
        p[0].Value = topic;
        p[1].Value = id;
        p[2].Value = since;
        return _storedId.ExecuteScalar() is long sequence ? sequence : null;
    }

    /// <summary>The answer stored for an idempotency key since <paramref name="since"/>, by any writer of the file.</summary>
    public string? StoredAnswer(IdempotencyKey key, long since)
    {
        var p = _storedAnswer.Parameters;
        p[0].Value = key.Subject;
        p[1].Value = key.Key;
        p[2].Value = since;
        return _storedAnswer.ExecuteScalar() as string;
    }

    /// <summary>The file's head: the last sequence any writer committed.</summary>
    public long StoredHead() => Convert.ToInt64(_storedHead.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>SQLite's <c>data_version</c> for this connection: it changes when another connection commits.</summary>
    public long DataVersion() => Convert.ToInt64(_dataVersion.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Inserts one event's row; in the writer's open transaction (the raw statements run in whatever the
    /// connection has open, so <see cref="Enlist"/> has nothing to do for them).</summary>
    public void InsertEvent(LogEntry entry)
    {
        _insertEvent.Bind(1, entry.Sequence);
        _insertEvent.Bind(2, entry.Topic);
        _insertEvent.Bind(3, entry.Type);
        _insertEvent.Bind(4, entry.Id);
        _insertEvent.Bind(5, entry.Key);
        _insertEvent.Bind(6, entry.Time.ToUnixTimeMilliseconds());
        _insertEvent.Bind(7, entry.Json);
        _insertEvent.Run();
    }

    public void InsertDedup(string topic, string id, long sequence, long time)
    {
        _insertDedup.Bind(1, topic);
        _insertDedup.Bind(2, id);
        _insertDedup.Bind(3, sequence);
        _insertDedup.Bind(4, time);
        _insertDedup.Run();
    }

    public void InsertIdempotency(IdempotencyKey key, string answer, long time)
    {
        var p = _insertIdempotency.Parameters;
        p[0].Value = key.Subject;
        p[1].Value = key.Key;
        p[2].Value = answer;
        p[3].Value = time;
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
        _insertDedup.Dispose();
        _insertIdempotency.Dispose();
        _upsertTopic.Dispose();
        _storedId.Dispose();
        _storedAnswer.Dispose();
        _storedHead.Dispose();
        _dataVersion.Dispose();
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
