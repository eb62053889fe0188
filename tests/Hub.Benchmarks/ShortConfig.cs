using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Perfolizer.Horology;

namespace Hub.Benchmarks;

/// <summary>
/// The default config (console logger, columns, markdown export) with one short job for a noisy 2-core machine:
/// one launch, two warm-ups, five measured iterations of ~250 ms.
/// </summary>
public static class ShortConfig
{
    public static IConfig Create() => DefaultConfig.Instance
        .AddJob(Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(2)
            .WithIterationCount(5)
            .WithIterationTime(TimeInterval.FromMilliseconds(250))
            .WithId("short")
            .AsDefault());
}
