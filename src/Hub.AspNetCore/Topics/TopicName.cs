namespace Hub.Server.Topics;

/// <summary>
/// The rules for a topic as CONTRACT.md states them: dot-separated segments, each of <c>[A-Za-z0-9_-]</c>,
/// 1 to 255 characters in all (<c>orders.eu.created</c>).
/// </summary>
public static class TopicName
{
    /// <summary>The longest topic or pattern accepted, in characters.</summary>
    public const int MaxLength = 255;

    /// <summary>Returns <see langword="null"/> when <paramref name="topic"/> is a valid topic, otherwise why not.</summary>
    public static string? Validate(string? topic)
    {
        if (string.IsNullOrEmpty(topic))
        {
            return "must be a non-empty string";
        }

        if (topic.Length > MaxLength)
        {
            return $"must be at most {MaxLength} characters (got {topic.Length})";
        }

        var segmentLength = 0;
        for (var i = 0; i < topic.Length; i++)
        {
            var c = topic[i];
            if (c == '.')
            {
                if (segmentLength == 0)
                {
                    return $"'{Shorten(topic)}' has an empty segment at position {i}";
                }

                segmentLength = 0;
            }
            else if (IsSegmentChar(c))
            {
                segmentLength++;
            }
            else
            {
                return $"'{Shorten(topic)}' has a character not allowed in a topic at position {i}; segments are [A-Za-z0-9_-] separated by '.'";
            }
        }

        return segmentLength == 0 ? $"'{Shorten(topic)}' ends with an empty segment" : null;
    }

    /// <summary>Whether <paramref name="c"/> may appear in a topic segment.</summary>
    internal static bool IsSegmentChar(char c) =>
        (uint)(c - 'a') <= 'z' - 'a' || (uint)(c - 'A') <= 'Z' - 'A' || (uint)(c - '0') <= 9 || c == '_' || c == '-';

    /// <summary>Keeps error messages short when a client sends something huge.</summary>
    internal static string Shorten(string value) => value.Length <= 64 ? value : string.Concat(value.AsSpan(0, 61), "...");
}
