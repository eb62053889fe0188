namespace Hub.Log;

/// <summary>
/// One read of a durable log, filled in order from its rows: the position read to, the entries taken (those the filter
/// matches) up to <c>maxEvents</c> or <c>maxBytes</c>, and the answer when the rows end, stop or have a hole. The engines
/// fetch the rows; this is what they do with them, once.
/// </summary>
internal sealed class LogPage(long after, long upTo, IEventFilter? filter, int maxEvents, int maxBytes, List<LogEntry> into)
{
    private readonly long _after = after;
    private int _taken;
    private int _bytes;

    /// <summary>The last sequence read (taken or passed over by the filter).</summary>
    public long Position { get; private set; } = after;

    /// <summary>Whether to fetch more rows: not at <c>upTo</c>, and the page is not full.</summary>
    public bool WantsMore => Position < upTo && _taken < maxEvents && (_taken == 0 || _bytes < maxBytes);

    /// <summary>Whether a row of <paramref name="sequence"/> comes right after the position (else rows before it are gone).</summary>
    public bool Follows(long sequence) => sequence == Position + 1;

    /// <summary>Reads the next entry (it <see cref="Follows"/>), taking it if the filter matches; true once the page is full.</summary>
    public bool Take(LogEntry entry)
    {
        Position = entry.Sequence;
        if (filter is not null && !filter.Matches(entry))
        {
            return false;
        }

        into.Add(entry);
        _taken++;
        _bytes += entry.Json.Length;
        return _taken >= maxEvents || _bytes >= maxBytes;
    }

    /// <summary>
    /// The read stopped at a hole or an end of rows: what was taken, up to the position; or, nothing taken, the caller
    /// stays where it was, told whether what it asked for is <paramref name="truncated"/>.
    /// </summary>
    public LogRead Cut(bool truncated, long firstRetained) =>
        _taken > 0 ? new LogRead(Position, false, firstRetained) : new LogRead(_after, truncated, firstRetained);

    /// <summary>The read came to <c>upTo</c> or filled the page.</summary>
    public LogRead Done(long firstRetained) => new(Position, Truncated: false, firstRetained);
}
