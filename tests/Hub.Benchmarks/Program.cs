using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Hub.Benchmarks.FanOutBenchmarks).Assembly).Run(args, new Hub.Benchmarks.ShortConfig());
