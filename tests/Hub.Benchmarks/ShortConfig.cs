using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Perfolizer.Horology;

namespace Hub.Benchmarks;

/// <summary>A short job for a noisy 2-core machine: one launch, two warm-ups, five measured iterations of ~250 ms.</summary>
public sealed class ShortConfig : ManualConfig
{
    public ShortConfig()
    {
        AddJob(Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(2)
            .WithIterationCount(5)
            .WithIterationTime(TimeInterval.FromMilliseconds(250))
            .WithId("short"));
        WithOptions(ConfigOptions.JoinSummary);
    }
}
