// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// `quick [name...]`: side-by-side runs against a peer library (Quick/QuickBenchmarks.cs); anything else goes to
// BenchmarkDotNet (`--ci` picks the short job, see Infrastructure/BenchConfig.cs).
using BenchmarkDotNet.Running;
using HpcCore.Benchmarks.Infrastructure;
using HpcCore.Benchmarks.Quick;

if (args.Length > 0 && args[0] == "quick") return QuickBenchmarks.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(BenchConfig).Assembly).Run(BenchConfig.StripOwnArgs(args), BenchConfig.Create(args));
return 0;
