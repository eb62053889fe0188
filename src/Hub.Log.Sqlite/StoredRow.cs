using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Hub.Log.Sqlite;

/// <summary>
/// The current row of a reader over a table, read at start-up, each value checked for its type and range as it is taken: a row damaged on disk (by
/// hand, by a bad restore, by another program) stops the start with <see cref="HubStartupException"/> naming the file,
/// the table, the row's key and the column, instead of a crash, a silent zero or a wrong answer served later.
/// </summary>
/// <param name="reader">The rows; each call reads the row it is on.</param>
/// <param name="table">The table, for the message.</param>
/// <param name="path">The database file, for the message.</param>
/// <param name="keyOrdinals">The columns that name the row (its primary key), for the message.</param>
internal sealed class StoredRow(SqliteDataReader reader, string table, string path, params int[] keyOrdinals)
{
    private const int MaxShown = 80;

    /// <summary>A text value of at least one character (or none, when <paramref name="mayBeEmpty"/>).</summary>
    public string Text(int ordinal, bool mayBeEmpty = false)
    {
        if (reader.IsDBNull(ordinal) || reader.GetFieldType(ordinal) != typeof(string))
        {
            throw Damaged(ordinal, $"is {Show(reader.GetValue(ordinal))}, not text");
        }

        var text = reader.GetString(ordinal);
        return text.Length > 0 || mayBeEmpty ? text : throw Damaged(ordinal, "is empty");
    }

    /// <summary>An integer value from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public long Integer(int ordinal, long min = long.MinValue, long max = long.MaxValue)
    {
        if (reader.IsDBNull(ordinal) || reader.GetFieldType(ordinal) != typeof(long))
        {
            throw Damaged(ordinal, $"is {Show(reader.GetValue(ordinal))}, not an integer");
        }

        var value = reader.GetInt64(ordinal);
        return value >= min && value <= max
            ? value
            : throw Damaged(ordinal, string.Create(CultureInfo.InvariantCulture, $"is {value}, outside {min}..{max}"));
    }

    /// <summary>A time stored as Unix milliseconds.</summary>
    public DateTimeOffset Time(int ordinal) =>
        DateTimeOffset.FromUnixTimeMilliseconds(Integer(ordinal, 0, DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()));

    /// <summary>The error for a value that is not what the column holds.</summary>
    public HubStartupException Damaged(int ordinal, string problem, Exception? inner = null)
    {
        var key = string.Join(", ", keyOrdinals.Select(i => $"{reader.GetName(i)} {Show(reader.GetValue(i))}"));
        return new HubStartupException(
            $"Hub:Log:Sqlite:Path: the event log '{path}' has a damaged row in table {table} ({key}): {reader.GetName(ordinal)} {problem}. " +
            $"Restore the file from a backup, or delete that row ({WhatDeletingForgets}) and start again.", inner);
    }

    /// <summary>What the hub no longer knows once the damaged row is deleted, for the message.</summary>
    private string WhatDeletingForgets => table == "group_positions"
        ? "the group then starts at the head of the log, as a new one"
        : "the hub then forgets that publish was made";

    private static string Show(object value) => value switch
    {
        DBNull => "NULL",
        string text => $"'{(text.Length > MaxShown ? text[..MaxShown] + "…" : text)}'",
        byte[] blob => $"a blob of {blob.Length} bytes",
        IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
