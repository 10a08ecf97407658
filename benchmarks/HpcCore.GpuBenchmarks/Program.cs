// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// `HpcCore.GpuBenchmarks [--smoke] [--dtype f32|f16|all] [--only TEXT] [--min-seconds S] [--max-iters N]`:
// times the ILGPU fused attention on a CUDA device and prints one JSON line per (shape, dtype). See GpuAttentionBench.
return HpcCore.GpuBenchmarks.GpuAttentionBench.Run(args, Console.Out);
