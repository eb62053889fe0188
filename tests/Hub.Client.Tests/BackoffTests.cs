namespace Hub.Client.Tests;

/// <summary>Reconnect delays: exponential with equal jitter, capped, as hub-client.js's backoffDelay.</summary>
public sealed class BackoffTests
{
    [Theory]
    [InlineData(0, 0.0, 50)]
    [InlineData(0, 0.999999, 100)]
    [InlineData(3, 0.0, 400)]
    [InlineData(3, 0.999999, 800)]
    [InlineData(50, 0.999999, 1000)]
    [InlineData(50, 0.0, 500)]
    public void Delay_GrowsExponentially_WithJitter_CappedAtTheMaximum(long attempt, double random, int expectedMs)
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), () => random);
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), backoff.Delay(attempt));
    }

    [Fact]
    public void Options_OutOfRange_AreRefusedNamingTheSetting()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new HubClient(new Uri("http://127.0.0.1:1/"), new HubClientOptions { ReconnectMaxDelay = TimeSpan.FromMilliseconds(1) }));
        Assert.Equal("ReconnectMaxDelay", error.ParamName);
    }
}
