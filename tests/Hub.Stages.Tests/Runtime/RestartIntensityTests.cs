using Hub.Stages.Runtime;
using Hub.Stages.Tests.Support;

namespace Hub.Stages.Tests.Runtime;

public class RestartIntensityTests
{
    private readonly ManualTimeProvider _clock = new();

    [Fact]
    public void MaxRestartsWithinTheWindow_AreAllowed_OneMoreIsNot()
    {
        var intensity = new RestartIntensity(maxRestarts: 3, maxSeconds: 5, _clock);

        Assert.True(intensity.TryAdd());
        Assert.True(intensity.TryAdd());
        Assert.True(intensity.TryAdd());
        Assert.False(intensity.TryAdd());
    }

    [Fact]
    public void RestartsOlderThanTheWindow_NoLongerCount()
    {
        var intensity = new RestartIntensity(maxRestarts: 3, maxSeconds: 5, _clock);
        for (int i = 0; i < 3; i++)
        {
            Assert.True(intensity.TryAdd());
        }

        _clock.Advance(TimeSpan.FromSeconds(5.5));

        Assert.True(intensity.TryAdd());
        Assert.Equal(1, intensity.Count);
    }

    [Fact]
    public void ARestartExactlyMaxSecondsOld_StillCounts()
    {
        var intensity = new RestartIntensity(maxRestarts: 1, maxSeconds: 5, _clock);
        Assert.True(intensity.TryAdd());

        _clock.Advance(TimeSpan.FromSeconds(5));

        Assert.False(intensity.TryAdd());
    }

    [Fact]
    public void MaxRestartsZero_RefusesTheFirstRestart()
    {
        var intensity = new RestartIntensity(maxRestarts: 0, maxSeconds: 5, _clock);

        Assert.False(intensity.TryAdd());
    }
}
