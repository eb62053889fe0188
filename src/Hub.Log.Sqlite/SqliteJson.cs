using System.Text.Json.Serialization;

namespace Hub.Log.Sqlite;

/// <summary>How a stored idempotency answer is written (source-generated, no reflection).</summary>
[JsonSerializable(typeof(AppendedEvent[]))]
internal sealed partial class SqliteJson : JsonSerializerContext;
