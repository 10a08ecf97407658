// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// `HpcCore.GpuBenchmarks ops [--smoke] [--only TEXT] [--min-seconds S] [--max-iters N]`: timings beyond attention
// (issue #8): GEMM at ViT-B/16 batch-64 shapes and 4096^3 (f32; f16 reported not_supported while the kernel is F32
// only), decode attention over 4k and 32k keys against device-to-device copy bandwidth, the token-reduction kernels
// (top-k, best match, ToMe plan and merge, row gather) and one ViT-B block built from the ops, with and without a
// ToMe r = 16 step, so the token-reduction share of block time is measured. Every line carries its FLOP and byte
// counts, the floor (the larger of FLOPs at the FP32 peak and bytes at HBM bandwidth, DevicePeaks) and the fraction
// of it achieved. Timing: Stopwatch around each call plus Accelerator.Synchronize (Timer).
using System.Globalization;

namespace HpcCore.GpuBenchmarks.Ops;

using HpcCore.Devices;
using HpcCore.Gpu;
using HpcCore.GpuBenchmarks.Validate;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.TokenReduction;

/// <summary>Runs the op benchmarks and prints JSON lines.</summary>
public static class GpuOpsBench
{
    /// <summary>Runs with <paramref name="args"/> (after the <c>ops</c> word).</summary>
    /// <returns>0, 2 for bad arguments, 3 without a CUDA device.</returns>
    public static int Run(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        var o = new Settings();
        for (int i = 0; i < args.Length; i++)
        {
            string? v = i + 1 < args.Length ? args[i + 1] : null;
            if (args[i] == "--smoke") o.Smoke = true;
            else if (args[i] == "--only" && v is not null) (o.Only, i) = (v, i + 1);
            else if (args[i] == "--min-seconds" && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0) (o.MinSeconds, i) = (s, i + 1);
            else if (args[i] == "--max-iters" && int.TryParse(v, CultureInfo.InvariantCulture, out int n) && n >= 5) (o.MaxIters, i) = (n, i + 1);
            else
            {
                Console.Error.WriteLine($"usage: HpcCore.GpuBenchmarks ops [--smoke] [--only TEXT] [--min-seconds S] [--max-iters N]; bad argument '{args[i]}'");
                return 2;
            }
        }
        using var backend = o.Smoke ? IlgpuBackendProvider.CreateEmulator() : IlgpuBackendProvider.CreateFirst(DeviceKind.Cuda);
        if (backend is null)
        {
            Console.Error.WriteLine("HpcCore.GpuBenchmarks ops: no CUDA device found. Use --smoke for ILGPU's CPU emulator.");
            return 3;
        }
        var bench = new OpsRunner(backend, o, output);
        bench.Copy();
        bench.Gemms();
        bench.Decode();
        bench.Selection();
        bench.VitBlock();
        return 0;
    }

    /// <summary>Parsed options.</summary>
    internal sealed class Settings
    {
        public bool Smoke { get; set; }

        public string? Only { get; set; }

        public double MinSeconds { get; set; } = 0.3;

        public int MaxIters { get; set; } = 50;
    }
}
