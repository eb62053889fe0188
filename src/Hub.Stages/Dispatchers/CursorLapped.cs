namespace Hub.Stages.Dispatchers;

/// <summary>What a <see cref="BroadcastCursor"/> lost when the log moved past it.</summary>
/// <param name="From">The first sequence lost.</param>
/// <param name="To">The last sequence lost (inclusive).</param>
/// <param name="Reason"><see cref="BroadcastCursor.OverflowReason"/>, or <see cref="BroadcastCursor.RetentionReason"/>
/// for a replay that started before what the log keeps.</param>
/// <param name="Ends">True for <see cref="OverflowPolicy.Disconnect"/>: the subscriber is to be ended; otherwise it
/// goes on after <paramref name="To"/> and is told the gap.</param>
public readonly record struct CursorLapped(long From, long To, string Reason, bool Ends);
