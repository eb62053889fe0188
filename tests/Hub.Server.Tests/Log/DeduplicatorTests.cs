using Hub.Log;

namespace Hub.Server.Tests.Log;

/// <summary>The dedup memory's window when an append fails and is retried: the retry's entry lives its own full window,
/// not what was left of the failed attempt's.</summary>
public sealed class DeduplicatorTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(10);
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void IdForgottenByAFailedAppend_AndRememberedByItsRetry_ExpiresAWindowAfterTheRetry()
    {
        var dedup = new Deduplicator(Window);
        dedup.RememberId("orders", "o-1", 7, T0);
        dedup.Forget([("orders", "o-1")], null);
        dedup.RememberId("orders", "o-1", 9, T0.AddMinutes(6));

        Assert.Equal(0, dedup.Expire(T0.AddMinutes(11))); // past the failed attempt's window, within the retry's
        Assert.True(dedup.TryGetSequence("orders", "o-1", out var sequence));
        Assert.Equal(9, sequence);

        dedup.Expire(T0.AddMinutes(17));
        Assert.False(dedup.TryGetSequence("orders", "o-1", out _));
        Assert.Equal(0, dedup.Count);
    }

    [Fact]
    public void KeyForgottenByAFailedAppend_AndRememberedByItsRetry_ExpiresAWindowAfterTheRetry()
    {
        var dedup = new Deduplicator(Window);
        var key = new IdempotencyKey("tenant-a", "k1");
        dedup.RememberAnswer(key, [new AppendedEvent(3, "orders", null, false)], T0);
        dedup.Forget([], key);
        dedup.RememberAnswer(key, [new AppendedEvent(5, "orders", null, false)], T0.AddMinutes(6));

        Assert.Equal(0, dedup.Expire(T0.AddMinutes(11)));
        Assert.True(dedup.TryGetAnswer(key, out var answer));
        Assert.Equal(5, Assert.Single(answer).Sequence);
        Assert.Equal(1, dedup.Count);

        dedup.Expire(T0.AddMinutes(17));
        Assert.False(dedup.TryGetAnswer(key, out _));
        Assert.Equal(0, dedup.Count);
    }

    [Fact]
    public void PastTheBound_TheOldestLiveEntryIsForgotten_NotTheRetriedOne()
    {
        var dedup = new Deduplicator(Window, maxEntries: 2);
        dedup.RememberId("t", "retried", 1, T0);
        dedup.Forget([("t", "retried")], null);
        dedup.RememberId("t", "older", 2, T0.AddSeconds(1));
        dedup.RememberId("t", "retried", 3, T0.AddSeconds(2));
        dedup.RememberId("t", "newest", 4, T0.AddSeconds(3));

        Assert.Equal(1, dedup.Expire(T0.AddSeconds(4)));
        Assert.False(dedup.TryGetSequence("t", "older", out _));
        Assert.True(dedup.TryGetSequence("t", "retried", out _));
        Assert.True(dedup.TryGetSequence("t", "newest", out _));
    }
}
