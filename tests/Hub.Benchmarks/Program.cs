using BenchmarkDotNet.Running;
using Hub.Benchmarks;

if (args is ["--latency", ..])
{
    // Publish → deliver percentiles at a fixed rate (events/s), for the SQLite and the memory log.
    var rate = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5_000;
    await LatencyProbe.RunAsync(rate, TimeSpan.FromSeconds(5), runs: 3);
    return;
}

if (args is ["--smoke", ..])
{
    // A quick check outside BenchmarkDotNet: every parameter set completes a few invocations.
    int rounds = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3;
    foreach (int consumers in args.Length > 2 ? [int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture)] : new[] { 1, 10, 100, 1000 })
    {
        foreach (bool stalled in new[] { false, true })
        {
            var benchmark = new FanOutBenchmarks { Consumers = consumers, OneStalled = stalled };
            benchmark.Setup();
            var watch = System.Diagnostics.Stopwatch.StartNew();
            for (int i = 0; i < rounds; i++)
            {
                await benchmark.CursorBroadcast();
            }

            Console.WriteLine($"consumers={consumers} stalled={stalled}: {watch.Elapsed.TotalNanoseconds / ((double)rounds * FanOutBenchmarks.Deliveries):F2} ns/delivery");
            benchmark.Cleanup();
        }
    }

    return;
}

BenchmarkSwitcher.FromAssembly(typeof(FanOutBenchmarks).Assembly).Run(args, ShortConfig.Create());
