using Hub.Stages.Dispatchers;

namespace Hub.Stages.Tests.Dispatchers;

/// <summary>
/// The cursor state machine that both <see cref="CursorBroadcastDispatcher{T}"/> and the hub's subscription stage run:
/// driven directly, without a log or a host, as gen_stage tests its dispatchers.
/// </summary>
public class BroadcastCursorTests
{
    [Fact]
    public void NewCursor_AtTheHead_IsCaughtUp_AndTakesNothingWithoutCredits()
    {
        var cursor = new BroadcastCursor(position: 10, credits: 0, OverflowPolicy.DropOldest, firstRetained: 1);

        Assert.True(cursor.IsCaughtUp(10));
        Assert.False(cursor.IsCaughtUp(11));
        Assert.Equal(0, cursor.MaxToTake);
    }

    [Fact]
    public void Take_SpendsCredits_AndPassTo_MovesPastWhatTheReadExamined()
    {
        var cursor = new BroadcastCursor(position: 0, credits: 5, OverflowPolicy.DropOldest, firstRetained: 1);

        // A read examined sequences 1..8 and selected 3 of them: 3 credits spent, the cursor past all 8.
        cursor.Take(3);
        cursor.PassTo(8);

        Assert.Equal((8L, 2L), (cursor.Position, cursor.Credits));
        Assert.Equal(2, cursor.MaxToTake);
        Assert.True(cursor.IsCaughtUp(8));
    }

    [Fact]
    public void Grant_Adds_AndSaturatesInsteadOfOverflowing()
    {
        var cursor = new BroadcastCursor(position: 0, credits: 0, OverflowPolicy.DropOldest);

        cursor.Grant(7);
        Assert.Equal(7, cursor.Credits);
        cursor.Grant(long.MaxValue);
        Assert.Equal(long.MaxValue, cursor.Credits);
        Assert.Equal(int.MaxValue, cursor.MaxToTake);
    }

    [Fact]
    public void Grant_FromManyThreads_LosesNoCredit()
    {
        var cursor = new BroadcastCursor(position: 0, credits: 0, OverflowPolicy.DropOldest);

        Parallel.For(0, 10_000, _ => cursor.Grant(3));

        Assert.Equal(30_000, cursor.Credits);
    }

    [Fact]
    public void FellBehind_WithDropOldest_ReportsTheGapAsOverflow_AndTheOwnerPassesItAfterReportingIt()
    {
        var cursor = new BroadcastCursor(position: 4, credits: 10, OverflowPolicy.DropOldest, firstRetained: 1);
        Assert.False(cursor.IsBehind(5));
        Assert.True(cursor.IsBehind(6));

        var lapped = cursor.FellBehind(firstRetained: 20);

        // Until the gap is reported it still shows how far behind it is.
        Assert.Equal(new CursorLapped(5, 19, BroadcastCursor.OverflowReason, Ends: false), lapped);
        Assert.Equal(4, cursor.Position);
        cursor.PassTo(lapped.To);
        Assert.Equal((19L, 10L), (cursor.Position, cursor.Credits));
        Assert.False(cursor.IsBehind(20));
    }

    [Fact]
    public void FellBehind_WithDisconnect_StaysWhereItIs_AndSaysToEnd()
    {
        var cursor = new BroadcastCursor(position: 4, credits: 10, OverflowPolicy.Disconnect, firstRetained: 1);

        var lapped = cursor.FellBehind(firstRetained: 20);

        Assert.Equal(new CursorLapped(5, 19, BroadcastCursor.OverflowReason, Ends: true), lapped);
        Assert.Equal(4, cursor.Position);
    }

    [Fact]
    public void ReplayStartingBeforeTheRetention_FallsBehindForRetention_ThenForOverflow()
    {
        // Asked to replay after 2 while the log keeps 10 on: it has not read yet, so what it misses is the retention's.
        var cursor = new BroadcastCursor(position: 2, credits: 100, OverflowPolicy.DropOldest, firstRetained: 10);

        var replay = cursor.FellBehind(10);
        Assert.Equal(new CursorLapped(3, 9, BroadcastCursor.RetentionReason, Ends: false), replay);
        cursor.PassTo(replay.To);

        // Once it has read, the log moving past it is an overflow.
        cursor.Take(5);
        cursor.PassTo(30);
        Assert.Equal(new CursorLapped(31, 39, BroadcastCursor.OverflowReason, Ends: false), cursor.FellBehind(40));
    }

    [Fact]
    public void CursorThatReadOnce_IsNeverTakenForARetentionReplay()
    {
        var cursor = new BroadcastCursor(position: 2, credits: 1, OverflowPolicy.Disconnect, firstRetained: 1);

        cursor.Take(1);
        cursor.PassTo(3);

        Assert.Equal(BroadcastCursor.OverflowReason, cursor.FellBehind(50).Reason);
    }
}
