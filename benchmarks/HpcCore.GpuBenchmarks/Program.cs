// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// HpcCore.GpuBenchmarks [mode] [options]; modes (gpu/README.md "Benchmarking on a GPU machine"):
//   (none)    the fused attention benchmark, one JSON line per (shape, dtype); see GpuAttentionBench
//   validate  every GPU op vs the CPU backend at real shapes; see Validate/GpuValidate
//   ops       GEMM, decode vs device copy, selection and ToMe timings, a ViT-B block; see Ops/GpuOpsBench
//   ptx       writes the PTX of every kernel (sm_90) into a folder for ptxas; see Ops/PtxDump
//   devices   the devices HpcCore sees and whether each can be opened; see DeviceList
//   opencl-quick  the OpenCL device next to the SIMD CPU backend on a few ops, interleaved; see OpenCLQuick
return args.Length > 0 && args[0] is "validate" or "ops" or "ptx" or "devices" or "opencl-quick"
    ? args[0] switch
    {
        "validate" => HpcCore.GpuBenchmarks.Validate.GpuValidate.Run(args[1..], Console.Out),
        "devices" => HpcCore.GpuBenchmarks.DeviceList.Run(Console.Out),
        "opencl-quick" => HpcCore.GpuBenchmarks.OpenCLQuick.Run(Console.Out),
        "ops" => HpcCore.GpuBenchmarks.Ops.GpuOpsBench.Run(args[1..], Console.Out),
        _ => HpcCore.GpuBenchmarks.Ops.PtxDump.Run(args[1..], Console.Out),
    }
    : HpcCore.GpuBenchmarks.GpuAttentionBench.Run(args, Console.Out);
