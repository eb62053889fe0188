using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Hub.Benchmarks.FanOutBenchmarks).Assembly).Run(args, Hub.Benchmarks.ShortConfig.Create());
