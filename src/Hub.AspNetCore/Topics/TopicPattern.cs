namespace Hub.Server.Topics;

/// <summary>
/// A compiled topic pattern, as in NATS: a segment may be <c>*</c> (exactly one segment) and the last segment may be
/// <c>&gt;</c> (one or more segments). <c>orders.*</c> matches <c>orders.eu</c>; <c>orders.&gt;</c> matches
/// <c>orders.eu</c> and <c>orders.eu.created</c>; neither matches <c>orders</c>.
/// </summary>
/// <remarks>Compiled once per subscription; <see cref="Matches"/> walks the topic without allocating.</remarks>
public sealed class TopicPattern
{
    private readonly string[] _segments; // "*" for a one-segment wildcard; the tail wildcard is kept apart
    private readonly bool _tail;          // ends with ">"
    private readonly bool _literal;       // no wildcard: plain equality

    private TopicPattern(string text, string[] segments, bool tail)
    {
        Text = text;
        _segments = segments;
        _tail = tail;
        _literal = !tail && Array.IndexOf(segments, "*") < 0;
    }

    /// <summary>The pattern as written.</summary>
    public string Text { get; }

    /// <summary>Compiles <paramref name="text"/>; returns <see langword="null"/> and the reason when it is not a valid pattern.</summary>
    public static TopicPattern? TryParse(string? text, out string? error)
    {
        if (string.IsNullOrEmpty(text))
        {
            error = "must be a non-empty string";
            return null;
        }

        if (text.Length > TopicName.MaxLength)
        {
            error = $"must be at most {TopicName.MaxLength} characters (got {text.Length})";
            return null;
        }

        var parts = text.Split('.');
        var tail = false;
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            if (part.Length == 0)
            {
                error = $"'{TopicName.Shorten(text)}' has an empty segment";
                return null;
            }

            if (part == ">")
            {
                if (i != parts.Length - 1)
                {
                    error = $"'{TopicName.Shorten(text)}': '>' may only be the last segment";
                    return null;
                }

                tail = true;
                continue;
            }

            if (part == "*")
            {
                continue;
            }

            foreach (var c in part)
            {
                if (!TopicName.IsSegmentChar(c))
                {
                    error = $"'{TopicName.Shorten(text)}': segment '{TopicName.Shorten(part)}' may hold only [A-Za-z0-9_-], or be '*' or a final '>'";
                    return null;
                }
            }
        }

        error = null;
        return new TopicPattern(text, tail ? parts[..^1] : parts, tail);
    }

    /// <summary>Compiles <paramref name="text"/> or throws <see cref="ArgumentException"/>.</summary>
    public static TopicPattern Parse(string text) =>
        TryParse(text, out var error) ?? throw new ArgumentException($"Invalid topic pattern: {error}", nameof(text));

    /// <summary>Whether <paramref name="topic"/> (a valid topic) matches this pattern.</summary>
    public bool Matches(string topic)
    {
        if (_literal)
        {
            return string.Equals(topic, Text, StringComparison.Ordinal);
        }

        var rest = topic.AsSpan();
        foreach (var segment in _segments)
        {
            if (rest.IsEmpty)
            {
                return false; // the topic has fewer segments than the pattern
            }

            var dot = rest.IndexOf('.');
            var current = dot < 0 ? rest : rest[..dot];
            if (segment != "*" && !current.SequenceEqual(segment))
            {
                return false;
            }

            rest = dot < 0 ? ReadOnlySpan<char>.Empty : rest[(dot + 1)..];
        }

        // With '>' at least one more segment must remain; without it, none may.
        return _tail ? !rest.IsEmpty : rest.IsEmpty;
    }

    /// <summary>
    /// Whether every topic that <paramref name="requested"/> matches is also matched by <paramref name="grant"/>: the
    /// test an authorization grant applies to a pattern a client asks for. Segment by segment, a grant's literal covers
    /// only the same literal, its <c>*</c> covers a literal or <c>*</c> (never <c>&gt;</c>, which may stand for more
    /// segments), and its final <c>&gt;</c> covers one or more of anything. A pattern broader than the grant is not
    /// covered (never narrowed): <c>orders.*</c> does not cover <c>orders.&gt;</c>, <c>orders.&gt;</c> does not cover
    /// <c>orders</c>.
    /// </summary>
    public static bool Covers(TopicPattern grant, TopicPattern requested)
    {
        ArgumentNullException.ThrowIfNull(grant);
        ArgumentNullException.ThrowIfNull(requested);
        var g = grant._segments;
        var p = requested._segments;
        for (var i = 0; ; i++)
        {
            if (grant._tail && i == g.Length)
            {
                // The grant's '>' takes one or more segments: the request must still have at least one here.
                return i < p.Length || requested._tail;
            }

            if (i == p.Length)
            {
                // The request ends here (or its '>' starts here, which only a grant's '>' at this position covers).
                return !requested._tail && i == g.Length;
            }

            if (i == g.Length)
            {
                return false; // the grant ends; the request goes on
            }

            if (g[i] != "*" && !string.Equals(g[i], p[i], StringComparison.Ordinal))
            {
                return false; // a literal in the grant covers only the same literal (not '*')
            }
        }
    }

    /// <inheritdoc />
    public override string ToString() => Text;
}
