namespace Hub.Log;

/// <summary>
/// What text an event may carry in its stored fields (type, id, key; an idempotency key and its subject): every engine
/// stores them as text, and PostgreSQL's text holds no U+0000, while a string with an unpaired UTF-16 surrogate has no
/// UTF-8 form at all. The REST edge refuses such a field naming it; the PostgreSQL log refuses it too, alone, so that one
/// bad value never fails a group commit it shares with other publishers.
/// </summary>
internal static class StorableText
{
    /// <summary>What the rule says, for an error message.</summary>
    public const string Rule = "must not contain U+0000 or an unpaired surrogate";

    /// <summary>Whether <paramref name="value"/> (null is) can be stored as text.</summary>
    public static bool IsStorable(string? value)
    {
        if (value is null)
        {
            return true;
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\0')
            {
                return false;
            }

            if (char.IsSurrogate(c))
            {
                if (!char.IsHighSurrogate(c) || i + 1 == value.Length || !char.IsLowSurrogate(value[i + 1]))
                {
                    return false;
                }

                i++;
            }
        }

        return true;
    }
}
