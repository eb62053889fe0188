namespace Hub.Log;

/// <summary>Selects the entries a reader wants. Must be cheap and allocation-free: it runs for every scanned entry.</summary>
public interface IEventFilter
{
    /// <summary>Whether the reader wants <paramref name="entry"/>.</summary>
    bool Matches(LogEntry entry);
}
