// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using System.Globalization;
using ILGPU;
using ILGPU.Runtime;

namespace HpcCore.GpuBenchmarks.Ops;

using HpcCore.Gpu;
using HpcCore.GpuBenchmarks.Validate;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.TokenReduction;

/// <summary>The sections of <see cref="GpuOpsBench"/>; each prints JSON lines.</summary>
internal sealed class OpsRunner(IlgpuBackend backend, GpuOpsBench.Settings settings, TextWriter output)
{
    private readonly DevicePeaks? _peaks = DevicePeaks.For(backend.Device.Name);
    private double _copyGbps = double.NaN;

    private bool Smoke => settings.Smoke;

    /// <summary>Device-to-device copy bandwidth (read + write bytes per second), the bandwidth floor's yardstick.</summary>
    public void Copy()
    {
        var acc = backend.Accelerator;
        long bytes = Smoke ? 1L << 20 : acc.MemorySize >= 8L << 30 ? 1L << 30 : 256L << 20;
        using var a = acc.Allocate1D<byte>(bytes);
        using var b = acc.Allocate1D<byte>(bytes);
        a.MemSetToZero();
        var (median, min, iters) = Timer.Time(() =>
        {
            a.View.CopyTo(b.View);
            acc.Synchronize();
        }, settings.MinSeconds, settings.MaxIters, Smoke);
        _copyGbps = 2.0 * bytes / median / 1e9;
        Emit("copy", "device-copy", $"{bytes}B", "u8", median, min, iters, 0, 2.0 * bytes);
    }

    /// <summary>GEMM C = A B (+ bias), ViT-B/16 batch-64 projections and a square 4096 case; f32 and f16.</summary>
    public void Gemms()
    {
        int m = Smoke ? 33 : 64 * 197;
        var shapes = Smoke
            ? new (string, int, int, int)[] { ("qkv", m, 24, 72), ("fc2", m, 40, 24) }
            : [("qkv", m, 768, 2304), ("proj", m, 768, 768), ("fc1", m, 768, 3072), ("fc2", m, 3072, 768), ("square", 4096, 4096, 4096)];
        foreach (var (name, mm, k, n) in shapes)
            foreach (string dt in new[] { "f32", "f16" })
            {
                string shape = $"{name}-{mm}x{k}x{n}";
                if (Skip("gemm", shape)) continue;
                using var s = new Scope(backend);
                var a = s.F(Inputs.Uniform((long)mm * k, 1, dt), new Shape(mm, k), dt);
                var w = s.F(Inputs.Uniform((long)n * k, 2, dt), new Shape(n, k), dt); // nn.Linear layout [out, in]
                var bias = s.F(Inputs.Uniform(n, 3, dt), new Shape(n), dt);
                var d = s.Poison(new Shape(mm, n), a.DType);
                var opts = new GemmOptions(TransposeB: true, Bias: bias);
                int es = dt == "f16" ? 2 : 4;
                try
                {
                    Measure("gemm", shape, dt, () => Gemm.Multiply(a, w, d, opts), 2.0 * mm * n * k, ((double)mm * k + (double)n * k + (double)mm * n) * es);
                }
                catch (Exception e) when (e is NotSupportedException or ArgumentException)
                {
                    NotSupported("gemm", shape, dt, e);
                }
            }
    }

    /// <summary>Decode attention: one query per head over 4k and 32k keys (split flash-decoding), GB/s vs copy.</summary>
    public void Decode()
    {
        var shapes = Smoke
            ? new (int, int, int, int)[] { (4, 4, 70, 16), (4, 1, 300, 16) }
            : [(32, 32, 4096, 128), (32, 32, 32768, 128), (32, 8, 32768, 128)];
        foreach (var (h, hkv, tk, d) in shapes)
            foreach (string dt in new[] { "f32", "f16" })
            {
                string shape = $"B1xH{h}xHkv{hkv}xTq1xTk{tk}xD{d}";
                if (Skip("decode", shape)) continue;
                using var s = new Scope(backend);
                var q = s.F(Inputs.Uniform((long)h * d, 1, dt), new Shape(1, 1, h, d), dt);
                var k = s.F(Inputs.Uniform((long)tk * hkv * d, 2, dt), new Shape(1, tk, hkv, d), dt);
                var v = s.F(Inputs.Uniform((long)tk * hkv * d, 3, dt), new Shape(1, tk, hkv, d), dt);
                var o = s.Poison(q.Shape, q.DType);
                int es = dt == "f16" ? 2 : 4;
                Measure("decode", shape, dt, () => Attention.Forward(q, k, v, o), 4.0 * h * tk * d, (2.0 * tk * hkv * d + 2.0 * h * d) * es, copyRatio: true);
            }
    }

    /// <summary>Token-reduction kernels at ViT-B/16 batch-64 and KV-selection shapes.</summary>
    public void Selection()
    {
        int b = Smoke ? 2 : 64, n = Smoke ? 17 : 197, c = Smoke ? 24 : 768, d = Smoke ? 8 : 64, r = Smoke ? 2 : 16;
        int na = (n + 1) / 2, nb = n / 2;
        using var s = new Scope(backend);
        var scores = s.F(Inputs.Uniform((long)b * n, 1), new Shape(b, n));
        var idx = s.Poison(new Shape(b, n / 2), DType.I32);
        if (!Skip("selection", "topk")) Measure("selection", $"topk-B{b}xN{n}xk{n / 2}", "f32", () => TopK.Indices(scores, n / 2, idx), 0, (double)b * n * 4 + (double)b * (n / 2) * 4);
        int kvRows = Smoke ? 2 : 32, kvN = Smoke ? 300 : 32768, kvK = Smoke ? 16 : 2048;
        var kvScores = s.F(Inputs.Uniform((long)kvRows * kvN, 2), new Shape(kvRows, kvN));
        var kvIdx = s.Poison(new Shape(kvRows, kvK), DType.I32);
        if (!Skip("selection", "topk")) Measure("selection", $"topk-B{kvRows}xN{kvN}xk{kvK}", "f32", () => TopK.Indices(kvScores, kvK, kvIdx), 0, (double)kvRows * kvN * 4 + (double)kvRows * kvK * 4);
        var a = s.F(Inputs.Uniform((long)b * na * d, 3), new Shape(b, na, d));
        var bb = s.F(Inputs.Uniform((long)b * nb * d, 4), new Shape(b, nb, d));
        var max = s.Poison(new Shape(b, na), DType.F32);
        var arg = s.Poison(new Shape(b, na), DType.I32);
        if (!Skip("selection", "bestmatch")) Measure("selection", $"bestmatch-B{b}x{na}x{nb}xd{d}", "f32", () => Similarity.BestMatch(a, bb, max, arg), 2.0 * b * na * nb * d, ((double)na + nb) * b * d * 4 + (double)b * na * 8);
        var metric = s.F(Inputs.Uniform((long)b * n * d, 5), new Shape(b, n, d));
        var x = s.F(Inputs.Uniform((long)b * n * c, 6), new Shape(b, n, c));
        var tome = new ToMeOptions(ClassToken: true);
        using var plan = ToMe.Plan(metric, r, tome);
        var merged = s.Poison(new Shape(b, n - plan.R, c), DType.F32);
        var size = s.Poison(new Shape(b, n - plan.R), DType.F32);
        if (!Skip("selection", "tome-plan")) Measure("selection", $"tome-plan-B{b}xN{n}xd{d}-r{r}", "f32", () => ToMe.Plan(metric, r, plan, tome), 2.0 * b * na * nb * d, (double)b * n * d * 4);
        if (!Skip("selection", "tome-merge")) Measure("selection", $"tome-merge-B{b}xN{n}xC{c}-r{r}", "f32", () => ToMe.Merge(plan, x, null, merged, size), (double)b * n * c * 2, ((double)b * n * c + (double)b * (n - plan.R) * c) * 4);
        var keep = s.I(Inputs.Distinct(b, n - r, n, 7), new Shape(b, n - r));
        var gathered = s.Poison(new Shape(b, n - r, c), DType.F32);
        if (!Skip("selection", "gather")) Measure("selection", $"gather-rows-B{b}xN{n}xK{n - r}xC{c}", "f32", () => Gather.Rows(x, keep, gathered), 0, 2.0 * b * (n - r) * c * 4);
    }

    /// <summary>One ViT-B/16 block (pre-norm, f32, batch 64 x 197 tokens) from the ops, then the same with ToMe r = 16.</summary>
    public void VitBlock()
    {
        if (Skip("vit-block", "vit-block")) return;
        using var block = new VitBlock(backend, Smoke);
        double flops = block.Flops;
        Measure("vit-block", block.Key, "f32", () => block.Forward(tome: false), flops, block.WeightBytes + block.ActivationBytes);
        double plain = _last;
        Measure("vit-block", block.Key + "-tome-r" + block.R, "f32", () => block.Forward(tome: true), flops, block.WeightBytes + block.ActivationBytes);
        double withTome = _last;
        Measure("vit-block", block.Key + "-tome-step-only", "f32", block.TomeStep, 0, block.ActivationBytes / 4);
        double step = _last;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"bench\":\"vit-block-share\",\"impl\":\"hpccore-ilgpu\",\"device\":\"{backend.Device.Name}\",\"shape\":\"{block.Key}\",\"block_ms\":{Num(plain * 1e3)},\"block_tome_ms\":{Num(withTome * 1e3)},\"tome_step_ms\":{Num(step * 1e3)},\"tome_share\":{Num(step / withTome)}}}"));
    }

    private double _last;

    private bool Skip(string bench, string shape) =>
        settings.Only is { } only && !$"{bench} {shape}".Contains(only, StringComparison.OrdinalIgnoreCase);

    private void Measure(string bench, string shape, string dtype, Action op, double flops, double bytes, bool copyRatio = false)
    {
        var acc = backend.Accelerator;
        var (median, min, iters) = Timer.Time(() =>
        {
            op();
            acc.Synchronize();
        }, settings.MinSeconds, settings.MaxIters, Smoke);
        _last = median;
        Emit(bench, bench, shape, dtype, median, min, iters, flops, bytes, copyRatio ? bytes / median / 1e9 / _copyGbps : double.NaN);
    }

    private void NotSupported(string bench, string shape, string dtype, Exception e) =>
        output.WriteLine($"{{\"bench\":\"{bench}\",\"impl\":\"hpccore-ilgpu\",\"device\":\"{backend.Device.Name}\",\"shape\":\"{shape}\",\"dtype\":\"{dtype}\",\"status\":\"not_supported\",\"note\":\"{e.GetType().Name}: {e.Message.Replace("\"", "'", StringComparison.Ordinal)}\"}}");

    private void Emit(string bench, string op, string shape, string dtype, double median, double min, int iters, double flops, double bytes, double copyRatio = double.NaN)
    {
        var (floor, bound) = _peaks?.Floor(flops, bytes) ?? (double.NaN, "unknown");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"bench\":\"{bench}\",\"op\":\"{op}\",\"impl\":\"hpccore-ilgpu\",\"device\":\"{backend.Device.Name}\",\"shape\":\"{shape}\",\"dtype\":\"{dtype}\",\"status\":\"ok\"," +
            $"\"median_ms\":{Num(median * 1e3)},\"min_ms\":{Num(min * 1e3)},\"iters\":{iters},\"flops\":{Num(flops)},\"bytes\":{Num(bytes)}," +
            $"\"tflops\":{Num(flops / median / 1e12)},\"gbps\":{Num(bytes / median / 1e9)},\"floor_ms\":{Num(floor * 1e3)},\"bound\":\"{bound}\"," +
            $"\"of_floor\":{Num(floor / median)},\"vs_copy\":{Num(copyRatio)},\"peaks\":\"{_peaks?.Name ?? "none"}\"}}"));
    }

    private static string Num(double x) => double.IsFinite(x) ? x.ToString("G5", CultureInfo.InvariantCulture) : "null";
}
