using System.Diagnostics;

namespace Hub.Stages.Dispatchers;

/// <summary>
/// One subscriber's place in a shared log, the state machine of a broadcast by cursor: its <see cref="Position"/>, its
/// <see cref="Credits"/> (the demand it has granted and not yet used), and what its <see cref="OverflowPolicy"/> does
/// when the log has moved past it. Pure: no awaits, locks or I/O, no log of its own. Whoever owns the log composes it:
/// <see cref="CursorBroadcastDispatcher{T}"/> over its chunk log, the hub's subscription stage over the hub's log.
/// </summary>
/// <remarks>
/// <para>
/// Positions count log entries: <see cref="Position"/> is the last sequence passed (delivered, or skipped because the
/// subscriber's selector did not want it, or dropped), with the first entry at sequence 1; so it is also the number
/// of entries passed, and a log whose oldest retained sequence is <c>firstRetained</c> has moved past the cursor when
/// <c>Position + 1 &lt; firstRetained</c>.
/// </para>
/// <para>
/// Threads: <see cref="Grant"/> may come from any thread (a client's <c>Ask</c>); it is atomic and saturates instead of
/// overflowing. Everything else is the owner's, one call at a time (a stage's pump, a dispatcher's turn), and is the
/// only writer of the position and the only one that spends credits, so credits never go negative.
/// </para>
/// </remarks>
public sealed class BroadcastCursor
{
    private long _position;
    private long _credits;
    private bool _read; // whether it has read once: behind the log before that is a replay beyond the retention

    /// <summary>Creates a cursor.</summary>
    /// <param name="position">The last sequence already passed (the log's head, for live events only).</param>
    /// <param name="credits">The credits it starts with (0 for a subscriber that will ask).</param>
    /// <param name="overflow">What happens when the log moves past it.</param>
    /// <param name="firstRetained">The log's oldest retained sequence now: a cursor that starts behind it is replaying
    /// more than the log keeps, which its first <see cref="FellBehind"/> reports as <see cref="RetentionReason"/>.</param>
    public BroadcastCursor(long position, long credits, OverflowPolicy overflow, long firstRetained = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        ArgumentOutOfRangeException.ThrowIfNegative(credits);
        _position = position;
        _credits = credits;
        Overflow = overflow;
        _read = !IsBehind(firstRetained);
    }

    /// <summary>The reason of a gap or end when a subscriber that had been reading fell behind the log.</summary>
    public const string OverflowReason = "overflow";

    /// <summary>The reason of a gap or end when a replay started before what the log keeps.</summary>
    public const string RetentionReason = "retention";

    /// <summary>The last sequence passed.</summary>
    public long Position => Volatile.Read(ref _position);

    /// <summary>Credits held: how many more events it may be sent now.</summary>
    public long Credits => Volatile.Read(ref _credits);

    /// <summary>What happens when the log moves past it.</summary>
    public OverflowPolicy Overflow { get; }

    /// <summary>Grants <paramref name="count"/> more credits (any thread; saturates at <see cref="long.MaxValue"/>).</summary>
    /// <returns>The credits held before: 0 (or less) when the subscriber had none, so a pump waiting for credits must be woken.</returns>
    public long Grant(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        long current, next;
        do
        {
            current = Volatile.Read(ref _credits);
            next = current > long.MaxValue - count ? long.MaxValue : current + count;
        }
        while (Interlocked.CompareExchange(ref _credits, next, current) != current);
        return current;
    }

    /// <summary>Whether it has passed everything up to <paramref name="head"/> (the log's last sequence).</summary>
    public bool IsCaughtUp(long head) => Position >= head;

    /// <summary>Whether the log, which now starts at <paramref name="firstRetained"/>, has moved past it.</summary>
    public bool IsBehind(long firstRetained) => Position + 1 < firstRetained;

    /// <summary>The most events it may take from the log now: its credits, bounded by <see cref="int.MaxValue"/>.</summary>
    public int MaxToTake => (int)Math.Min(Credits, int.MaxValue);

    /// <summary>
    /// Spends a credit for each of <paramref name="count"/> events taken from the log for this subscriber (before they
    /// are written, so that an answering <see cref="Grant"/> always finds them spent).
    /// </summary>
    public void Take(int count)
    {
        Debug.Assert(count >= 0 && count <= Credits, "a subscriber takes at most its credits");
        Interlocked.Add(ref _credits, -count);
        _read = true;
        AssertInvariants();
    }

    /// <summary>Moves past everything up to <paramref name="sequence"/> (the last sequence a read examined).</summary>
    public void PassTo(long sequence)
    {
        Debug.Assert(sequence >= Position, "a cursor never moves back");
        Volatile.Write(ref _position, sequence);
        _read = true;
        AssertInvariants();
    }

    /// <summary>
    /// The log has moved past the cursor (its oldest retained sequence is now <paramref name="firstRetained"/>): applies the
    /// overflow policy. The answer says what was lost, why, and whether the subscriber is to be ended
    /// (<see cref="OverflowPolicy.Disconnect"/>) or told the gap and go on (<see cref="OverflowPolicy.DropOldest"/>: its
    /// owner then moves it past the gap with <see cref="PassTo"/>, once the gap is reported, so that a subscriber blocked
    /// in reporting it still shows how far behind it is).
    /// </summary>
    public CursorLapped FellBehind(long firstRetained)
    {
        Debug.Assert(IsBehind(firstRetained), "only a cursor the log has moved past falls behind");
        var lapped = new CursorLapped(Position + 1, firstRetained - 1, _read ? OverflowReason : RetentionReason, Overflow == OverflowPolicy.Disconnect);
        _read = true;
        return lapped;
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(Volatile.Read(ref _credits) >= 0, "credits are never negative");
        Debug.Assert(Volatile.Read(ref _position) >= 0, "a position is never negative");
    }
}
