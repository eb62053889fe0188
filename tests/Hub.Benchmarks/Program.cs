using BenchmarkDotNet.Running;
using Hub.Benchmarks;

if (args is ["--latency", ..])
{
    // Publish → deliver percentiles at a fixed rate (events/s), for the SQLite and the memory log.
    var rate = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5_000;
    await LatencyProbe.RunAsync(rate, TimeSpan.FromSeconds(5), runs: 3);
    return;
}

if (args is ["--parked", ..])
{
    // The live bytes one parked subscription holds (the BenchmarkDotNet suite ParkedSubscriptionBenchmarks counts what it allocates).
    ParkedSubscriptionBenchmarks.PrintHeld();
    return;
}

if (args is ["--group", ..])
{
    // The four-member demand group, without and with one slow member: events/s of the group, and the slow one's share.
    var rounds = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5;
    foreach (var slow in new[] { false, true })
    {
        var benchmark = new GroupBenchmarks { OneSlow = slow };
        benchmark.Setup();
        await benchmark.FourMemberDemandGroup(); // warm-up
        var rates = new List<double>();
        for (var i = 0; i < rounds; i++)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            await benchmark.FourMemberDemandGroup();
            rates.Add(GroupBenchmarks.Events / watch.Elapsed.TotalSeconds);
        }

        rates.Sort();
        Console.WriteLine($"one slow member: {slow}: median {rates[rates.Count / 2]:N0} events/s over {rounds} rounds (min {rates[0]:N0}, max {rates[^1]:N0}); the slow member took {benchmark.SlowShare:N0} of the last {GroupBenchmarks.Events:N0}");
        benchmark.Cleanup();
    }

    return;
}

if (args is ["--handlers", ..])
{
    // Ten handlers, one slow: MediatR-style sequential publishing against Hub's handlers (time to publish and handle N).
    var rounds = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5;
    foreach (var perEvent in new[] { false, true })
    {
        var benchmark = new HandlerBenchmarks { SlowPerEvent = perEvent };
        benchmark.Setup();
        await benchmark.Sequential(); // warm-up
        await benchmark.HubHandlers();
        var sequential = new List<double>();
        var hub = new List<(double All, double Published, double Fast)>();
        for (var i = 0; i < rounds; i++)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            await benchmark.Sequential();
            sequential.Add(watch.Elapsed.TotalMilliseconds);
            watch.Restart();
            await benchmark.HubHandlers();
            hub.Add((watch.Elapsed.TotalMilliseconds, benchmark.Published.TotalMilliseconds, benchmark.FastDone.TotalMilliseconds));
        }

        sequential.Sort();
        hub.Sort();
        var median = hub[hub.Count / 2];
        Console.WriteLine($"slow handler 1 ms per {(perEvent ? "event" : "call")}, {benchmark.Events:N0} events, {HandlerBenchmarks.Handlers} handlers: sequential {sequential[sequential.Count / 2]:N0} ms; " +
            $"Hub handlers {median.All:N0} ms (publishes returned at {median.Published:N0} ms, the nine fast handlers done at {median.Fast:N0} ms); median of {rounds}");
        benchmark.Cleanup();
    }

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
