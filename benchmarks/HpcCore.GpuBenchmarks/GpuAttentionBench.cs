// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The GPU attention benchmark (gpu/README.md "Benchmarking on a GPU machine"): for each shape and dtype it uploads
// seeded uniform [-1, 1] operands, poisons the output with NaN, runs Attention.Forward once (compiles the kernels) and
// checks sampled rows against a float64 reference (relative L2: 1e-3 for f32, 1e-2 for f16; a NaN fails), then warms
// up (--warmup calls, cut short after --min-seconds) and times synchronised calls (Stopwatch around Forward + Accelerator.Synchronize, the same work PyTorch's CUDA
// events bracket in tools/gpu/sdpa_bench.py): at least 5 calls and about --min-seconds in all, median and min.
// One JSON line per (shape, dtype), then one line of device-to-device copy bandwidth (the floor for decode).
// --smoke runs the tiny shapes on ILGPU's CPU emulator, so a test or CI without a GPU proves the app works.
using System.Diagnostics;
using System.Globalization;
using ILGPU.Runtime;

namespace HpcCore.GpuBenchmarks;

using HpcCore.Devices;
using HpcCore.Gpu;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>Runs the GPU attention benchmark and prints JSON lines.</summary>
public static class GpuAttentionBench
{
    /// <summary>Runs with command-line <paramref name="args"/>, writing JSON lines to <paramref name="output"/>.</summary>
    /// <returns>0, 1 when an accuracy check failed, 2 for bad arguments, 3 when no CUDA device was found.</returns>
    public static int Run(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        if (!BenchOptions.TryParse(args, out var options, out string? error))
        {
            Console.Error.WriteLine(error);
            Console.Error.WriteLine(BenchOptions.Usage);
            return 2;
        }
        using var backend = options.Smoke ? IlgpuBackendProvider.CreateEmulator() : IlgpuBackendProvider.CreateFirst(DeviceKind.Cuda);
        if (backend is null)
        {
            Console.Error.WriteLine("HpcCore.GpuBenchmarks: no CUDA device found (libcuda.so.1 missing or no GPU). Use --smoke to run on ILGPU's CPU emulator.");
            return 3;
        }
        Console.Error.WriteLine($"device: {backend.Device.Name} ({backend.Accelerator.AcceleratorType}), attention group {backend.Policy.AttentionGroupSize} threads");
        int rc = 0;
        foreach (var shape in options.Smoke ? BenchShape.Smoke : BenchShape.Full)
        {
            if (options.Only is { } only && !shape.Key.Contains(only, StringComparison.OrdinalIgnoreCase)) continue;
            foreach (var dtype in options.DTypes)
                rc = Math.Max(rc, RunShape(backend, shape, dtype, options, output));
        }
        if (!options.Smoke) CopyBandwidth(backend, output);
        return rc;
    }

    private static int RunShape(IlgpuBackend backend, BenchShape s, DType dtype, BenchOptions options, TextWriter output)
    {
        int qn = s.B * s.Tq * s.H * s.D, kn = s.B * s.Tk * s.H * s.D;
        float[] q = Uniform(qn, 1, dtype), k = Uniform(kn, 2, dtype), v = Uniform(kn, 3, dtype);
        using var tq = Upload(q, new Shape(s.B, s.Tq, s.H, s.D), dtype, backend);
        using var tk = Upload(k, new Shape(s.B, s.Tk, s.H, s.D), dtype, backend);
        using var tv = Upload(v, new Shape(s.B, s.Tk, s.H, s.D), dtype, backend);
        using var dest = Upload(Enumerable.Repeat(float.NaN, qn).ToArray(), new Shape(s.B, s.Tq, s.H, s.D), dtype, backend);
        var attention = new AttentionOptions(Causal: s.Causal);
        var accelerator = backend.Accelerator;
        void Once()
        {
            Attention.Forward(tq, tk, tv, dest, attention);
            accelerator.Synchronize();
        }

        Once(); // compiles the kernels for this dtype
        float[] ours;
        using (var result = dtype == DType.F32 ? null : Cast.To(dest, DType.F32)) ours = (result ?? dest).ToArray<float>();
        double rel = AttentionCheck.RelativeL2(s, q, k, v, ours);
        double limit = dtype == DType.F32 ? 1e-3 : 1e-2;
        bool ok = rel <= limit; // false for NaN
        string name = dtype == DType.F32 ? "f32" : "f16";
        if (!ok)
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.Key} {name}: relative L2 error {rel:G3} exceeds {limit:G1}"));
            output.WriteLine(Json(backend, s, name, double.NaN, double.NaN, 0, rel, ok));
            return 1;
        }

        // Warm-up stops early once it has taken --min-seconds: at T = 16384 a call can take seconds.
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < options.Warmup && sw.Elapsed.TotalSeconds < options.MinSeconds; i++) Once();
        sw.Restart();
        Once();
        double first = sw.Elapsed.TotalSeconds;
        int iters = options.Smoke ? 3 : (int)Math.Clamp(Math.Ceiling(options.MinSeconds / Math.Max(first, 1e-6)), 5, options.MaxIters);
        var times = new double[iters];
        for (int i = 0; i < iters; i++)
        {
            sw.Restart();
            Once();
            times[i] = sw.Elapsed.TotalSeconds;
        }
        Array.Sort(times);
        output.WriteLine(Json(backend, s, name, times[iters / 2], times[0], iters, rel, ok));
        return 0;
    }

    /// <summary>Device-to-device copy of 1 GiB (256 MiB on small devices): read + write bytes per second.</summary>
    private static void CopyBandwidth(IlgpuBackend backend, TextWriter output)
    {
        var accelerator = backend.Accelerator;
        long bytes = accelerator.MemorySize >= 8L << 30 ? 1L << 30 : 256L << 20;
        using var a = accelerator.Allocate1D<byte>(bytes);
        using var b = accelerator.Allocate1D<byte>(bytes);
        a.MemSetToZero();
        var times = new double[20];
        for (int i = -3; i < times.Length; i++)
        {
            var sw = Stopwatch.StartNew();
            a.View.CopyTo(b.View);
            accelerator.Synchronize();
            if (i >= 0) times[i] = sw.Elapsed.TotalSeconds;
        }
        Array.Sort(times);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"bench\":\"copy\",\"impl\":\"hpccore-ilgpu\",\"device\":\"{backend.Device.Name}\",\"bytes\":{bytes},\"median_ms\":{times[times.Length / 2] * 1e3:F4},\"gbps\":{2.0 * bytes / times[times.Length / 2] / 1e9:F1}}}"));
    }

    private static string Json(IlgpuBackend backend, BenchShape s, string dtype, double median, double min, int iters, double rel, bool ok) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{{\"bench\":\"attention\",\"impl\":\"hpccore-ilgpu\",\"device\":\"{backend.Device.Name}\",\"shape\":\"{s.Key}\",\"dtype\":\"{dtype}\"," +
            $"\"b\":{s.B},\"h\":{s.H},\"tq\":{s.Tq},\"tk\":{s.Tk},\"d\":{s.D},\"causal\":{(s.Causal ? "true" : "false")}," +
            $"\"median_ms\":{Num(median * 1e3)},\"min_ms\":{Num(min * 1e3)},\"iters\":{iters}," +
            $"\"tflops\":{Num(s.Flops / median / 1e12)},\"gbps\":{Num(s.Bytes(dtype == "f32" ? 4 : 2) / median / 1e9)}," +
            $"\"rel_l2\":{Num(rel)},\"ok\":{(ok ? "true" : "false")}}}");

    /// <summary>A JSON number, or null for NaN and infinities.</summary>
    private static string Num(double x) => double.IsFinite(x) ? x.ToString("G6", CultureInfo.InvariantCulture) : "null";

    /// <summary>Seeded uniform [-1, 1] values, rounded to F16 when the run is F16 (so the host reference sees the device operands).</summary>
    private static float[] Uniform(int count, int seed, DType dtype)
    {
        var rng = new Random(seed);
        var x = new float[count];
        for (int i = 0; i < count; i++)
        {
            float f = rng.NextSingle() * 2f - 1f;
            x[i] = dtype == DType.F16 ? (float)(System.Half)f : f;
        }
        return x;
    }

    private static Tensor Upload(float[] data, Shape shape, DType dtype, IlgpuBackend backend)
    {
        var f32 = Tensor.From<float>(data, shape, backend);
        if (dtype == DType.F32) return f32;
        using (f32) return Cast.To(f32, dtype);
    }
}
