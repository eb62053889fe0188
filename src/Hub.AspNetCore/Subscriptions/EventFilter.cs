using Hub.Log;
using Hub.Server.Topics;

namespace Hub.Server.Subscriptions;

/// <summary>A subscription's selector: the entry's topic matches one of the patterns and, when types are given, its
/// type is one of them. Compiled once per subscription; matching allocates nothing.</summary>
public sealed class EventFilter : IEventFilter
{
    private readonly TopicPattern[] _patterns;
    private readonly HashSet<string>? _types;

    /// <summary>Creates a filter from compiled patterns and optional types.</summary>
    public EventFilter(IReadOnlyList<TopicPattern> patterns, IReadOnlyCollection<string>? types)
    {
        _patterns = [.. patterns];
        _types = types is { Count: > 0 } ? new HashSet<string>(types, StringComparer.Ordinal) : null;
    }

    /// <inheritdoc />
    public bool Matches(LogEntry entry)
    {
        if (_types is not null && (entry.Type is null || !_types.Contains(entry.Type)))
        {
            return false;
        }

        foreach (var pattern in _patterns)
        {
            if (pattern.Matches(entry.Topic))
            {
                return true;
            }
        }

        return false;
    }
}
