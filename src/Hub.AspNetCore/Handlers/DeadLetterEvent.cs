namespace Hub.Server.Handlers;

/// <summary>
/// The <c>data</c> of a dead letter, published to <c>hub.deadletter.NAME</c> (type <c>hub.deadletter</c>, id the
/// event's sequence, key the event's key) when a handler has given up on an event. The event itself stays in the log
/// (<c>GET /api/events?after=SEQUENCE-1&amp;limit=1</c>, while retained).
/// </summary>
/// <param name="Handler">The handler's name.</param>
/// <param name="Sequence">The event's sequence.</param>
/// <param name="Topic">The event's topic.</param>
/// <param name="Type">The event's type, if any.</param>
/// <param name="Id">The event's id, if any.</param>
/// <param name="Key">The event's key, if any.</param>
/// <param name="Attempts">How many times the handler was given the event (in its batch, then alone).</param>
/// <param name="Exception">The last failure's exception type (its full name).</param>
/// <param name="Message">The last failure's message (at most <see cref="MaxMessageLength"/> characters).</param>
public sealed record DeadLetterEvent(string Handler, long Sequence, string Topic, string? Type, string? Id, string? Key, int Attempts, string Exception, string Message)
{
    /// <summary>The dead letter's type.</summary>
    public const string EventType = "hub.deadletter";

    /// <summary>The longest message kept.</summary>
    public const int MaxMessageLength = 4096;
}
