// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// `quick attention`: our fused CPU attention against ONNX Runtime's com.microsoft.MultiHeadAttention (inputs bound
// once over pinned arrays), same process, interleaved. Each shape is first cross-checked against ORT (max abs
// error); then one JSON line per shape (FLOPs = 4*B*H*T^2*D, halved for causal, the FlashAttention convention),
// one line for the cost of the score exports (per-key totals + the [CLS] row) and, for the first shape, the
// unfused variant, a banded BlockMask against the dense call and BF16 operands against F32; finally decode (Tq = 1 over a long KV cache) in GB/s of K/V read against a measured memcpy, with score exports, and on a BF16 cache.
// HPCCORE_QUICK_ATTENTION_EXTRAS=0 keeps only the dense shapes and their export lines (for repeated runs on a
// loaded machine); HPCCORE_QUICK_ATTENTION_SHAPES=0,2 keeps only those shapes (indices into Shapes);
// HPCCORE_QUICK_THREADS=1 gives both sides one thread (ORT: one intra-op thread).
using System.Globalization;
using HpcCore.Cpu;
using HpcCore.Kernels;
using HpcCore.Ops;
using HpcCore.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace HpcCore.Benchmarks.Quick;

/// <summary>The `quick attention` side-by-side benchmark.</summary>
public static class QuickAttention
{
    private static readonly (int B, int H, int T, int D, bool Causal)[] Shapes =
        [(1, 12, 1024, 64, false), (1, 12, 197, 64, false), (8, 12, 197, 64, false), (1, 32, 2048, 64, true)];

    // Outputs are convex combinations of values in [-1, 1]; float accumulation in another order differs by ~1e-6.
    private const double MaxAbsError = 1e-4;

    /// <summary>Runs every shape; returns 1 if ours and ORT disagree.</summary>
    public static int Run()
    {
        int threads = QuickBenchmarks.Threads;
        using var backend = new CpuBackend(threads);
        using var sessionOptions = QuickBenchmarks.CreateOrtOptions(threads);
        string peer = "onnxruntime-" + OrtEnv.Instance().GetVersionString() + "-MultiHeadAttention";
        bool first = Environment.GetEnvironmentVariable("HPCCORE_QUICK_ATTENTION_EXTRAS") != "0";
        bool decode = first;
        string? only = Environment.GetEnvironmentVariable("HPCCORE_QUICK_ATTENTION_SHAPES");
        for (int si = 0; si < Shapes.Length; si++)
        {
            if (only != null && !only.Split(',').Contains(si.ToString(CultureInfo.InvariantCulture))) continue;
            var (b, h, t, d, causal) = Shapes[si];
            int n = b * t * h * d;
            float[] q = Infrastructure.BenchBackends.Uniform(n, 1), k = Infrastructure.BenchBackends.Uniform(n, 2);
            float[] v = Infrastructure.BenchBackends.Uniform(n, 3), theirs = new float[n];
            using var tq = Tensor.From<float>(q, new Shape(b, t, h, d), backend);
            using var tk = Tensor.From<float>(k, new Shape(b, t, h, d), backend);
            using var tv = Tensor.From<float>(v, new Shape(b, t, h, d), backend);
            using var to = Tensor.Empty(new Shape(b, t, h, d), DType.F32, backend);
            using var totals = Tensor.Empty(new Shape(b, h, t), DType.F32, backend);
            using var rows = Tensor.From<int>([0], new Shape(1), backend);
            using var rowProbs = Tensor.Empty(new Shape(b, h, 1, t), DType.F32, backend);
            var plain = new AttentionOptions(Causal: causal);
            var exports = plain with { KeyTotals = totals, RowIndices = rows, RowProbabilities = rowProbs };
            var unfused = plain with { Variant = AttentionVariant.Unfused };

            long[] dims = [b, t, (long)h * d];
            using var session = new InferenceSession(QuickAttentionModel.MultiHeadAttention(b, t, h, d, causal), sessionOptions);
            using var oq = OrtValue.CreateTensorValueFromMemory(q, dims);
            using var ok = OrtValue.CreateTensorValueFromMemory(k, dims);
            using var ov = OrtValue.CreateTensorValueFromMemory(v, dims);
            using var oo = OrtValue.CreateTensorValueFromMemory(theirs, dims);
            using var binding = session.CreateIoBinding();
            using var runOptions = new RunOptions();
            binding.BindInput("query", oq);
            binding.BindInput("key", ok);
            binding.BindInput("value", ov);
            binding.BindOutput("output", oo);

            void Ours() => Attention.Forward(tq, tk, tv, to, plain);
            void OursExports() => Attention.Forward(tq, tk, tv, to, exports);
            void Theirs() => session.RunWithBinding(runOptions, binding);

            Ours();
            Theirs();
            string shape = $"B{b}xH{h}xT{t}xD{d}{(causal ? "-causal" : "")}";
            double err = MaxAbs(to.ToArray<float>(), theirs);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"attention {shape}: max abs error vs {peer} = {err:G3}"));
            if (!(err <= MaxAbsError))
            {
                Console.Error.WriteLine($"attention {shape}: ours and {peer} disagree ({err:G3} > {MaxAbsError:G3})");
                return 1;
            }
            double flops = 4.0 * b * h * t * t * d / (causal ? 2 : 1);
            var timing = Interleaved.Median(Ours, Theirs);
            Line("attention", shape, flops / timing.Ours / 1e9, peer, flops / timing.Peer / 1e9, timing);
            var exportTiming = Interleaved.Median(OursExports, Ours);
            var (withExports, without) = exportTiming;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"op\":\"attention-exports\",\"shape\":\"{shape}\",\"ms_with\":{withExports * 1e3:F2},\"ms_without\":{without * 1e3:F2},\"overhead\":{withExports / without - 1:F3},{exportTiming.SpreadJson}}}"));
            if (first)
            {
                var unfusedTiming = Interleaved.Median(Ours, () => Attention.Forward(tq, tk, tv, to, unfused), rounds: 5);
                Line("attention", shape, flops / unfusedTiming.Ours / 1e9, "hpccore-unfused", flops / unfusedTiming.Peer / 1e9, unfusedTiming);
                BlockMaskAndHalf(backend, tq, tk, tv, to, plain, Ours, shape);
                first = false;
            }
        }
        if (decode) Decode(backend);
        return 0;
    }

    /// <summary>
    /// A banded block mask (query block i keeps key blocks i-1..i+1 of 64, a local BigBird-style pattern) against the
    /// dense call, which shows the tile skipping dropped blocks; and BF16 operands (F32 staging) against F32.
    /// </summary>
    private static void BlockMaskAndHalf(CpuBackend backend, Tensor q, Tensor k, Tensor v, Tensor o, AttentionOptions plain, Action dense, string shape)
    {
        int qb = (q.Shape[1] + 63) / 64, kb = (k.Shape[1] + 63) / 64;
        var keep = new bool[qb * kb];
        for (int i = 0; i < qb; i++)
            for (int j = Math.Max(0, i - 1); j <= Math.Min(kb - 1, i + 1); j++) keep[i * kb + j] = true;
        using var mask = Tensor.From<bool>(keep, new Shape(1, 1, qb, kb), backend);
        var masked = plain with { BlockMask = mask };
        var maskTiming = Interleaved.Median(() => Attention.Forward(q, k, v, o, masked), dense, rounds: 11);
        var (withMask, without) = maskTiming;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"op\":\"attention-blockmask\",\"shape\":\"{shape}\",\"kept\":{keep.Count(x => x) / (double)keep.Length:F3},\"ms_masked\":{withMask * 1e3:F2},\"ms_dense\":{without * 1e3:F2},\"speedup\":{without / withMask:F2},{maskTiming.SpreadJson}}}"));

        var bf16 = Bf16AgainstF32(backend, q, k, v, o, plain);
        var (half, single) = bf16;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"op\":\"attention-bf16\",\"shape\":\"{shape}\",\"ms_bf16\":{half * 1e3:F2},\"ms_f32\":{single * 1e3:F2},\"overhead\":{half / single - 1:F3},{bf16.SpreadJson}}}"));
    }

    /// <summary>
    /// Decode: B1, H32 over Hkv8, Tq 1, D128, Tk 16384 (64 MB of K/V); GB/s of K/V read vs memcpy, the cost of the
    /// score exports, and a BF16 cache against F32.
    /// </summary>
    private static unsafe void Decode(CpuBackend backend)
    {
        const int h = 32, hkv = 8, d = 128, tk = 16384;
        using var q = Tensor.From<float>(Infrastructure.BenchBackends.Uniform(h * d, 4), new Shape(1, 1, h, d), backend);
        using var k = Tensor.From<float>(Infrastructure.BenchBackends.Uniform(tk * hkv * d, 5), new Shape(1, tk, hkv, d), backend);
        using var v = Tensor.From<float>(Infrastructure.BenchBackends.Uniform(tk * hkv * d, 6), new Shape(1, tk, hkv, d), backend);
        using var o = Tensor.Empty(new Shape(1, 1, h, d), DType.F32, backend);
        using var copy = Tensor.Empty(new Shape(1, tk, hkv, d), DType.F32, backend);
        double bytes = 2.0 * tk * hkv * d * sizeof(float);
        var decodeTiming = Interleaved.Median(
            () => Attention.Forward(q, k, v, o),
            () => k.CopyTo(copy));
        var (attn, memcpy) = decodeTiming;
        string shape = $"B1xH{h}xHkv{hkv}xTq1xTk{tk}xD{d}";
        // memcpy moves bytes/2 in and bytes/2 out: its traffic equals the bytes decode reads.
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"op\":\"attention-decode\",\"shape\":\"{shape}\",\"kv_gbps\":{bytes / attn / 1e9:F1},\"copy_gbps\":{bytes / memcpy / 1e9:F1},\"ratio\":{memcpy / attn:F3},{decodeTiming.SpreadJson}}}"));

        // Score exports during decode (H2O's per-key totals and the query's probability row) against the plain call.
        using var totals = Tensor.Empty(new Shape(1, h, tk), DType.F32, backend);
        using var rows = Tensor.From<int>([0], new Shape(1), backend);
        using var probs = Tensor.Empty(new Shape(1, h, 1, tk), DType.F32, backend);
        var exports = new AttentionOptions(KeyTotals: totals, RowIndices: rows, RowProbabilities: probs);
        var exportTiming = Interleaved.Median(() => Attention.Forward(q, k, v, o, exports), () => Attention.Forward(q, k, v, o), rounds: 11);
        var (withExports, without) = exportTiming;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"op\":\"attention-decode-exports\",\"shape\":\"{shape}\",\"ms_with\":{withExports * 1e3:F2},\"ms_without\":{without * 1e3:F2},\"overhead\":{withExports / without - 1:F3},{exportTiming.SpreadJson}}}"));

        // A BF16 cache (K/V widened per key block inside the kernel) against F32: half the bytes to read.
        var bf16 = Bf16AgainstF32(backend, q, k, v, o, default);
        var (half, single) = bf16;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"op\":\"attention-decode-bf16\",\"shape\":\"{shape}\",\"ms_bf16\":{half * 1e3:F2},\"ms_f32\":{single * 1e3:F2},\"kv_gbps_bf16\":{bytes / 2 / half / 1e9:F1},\"kv_gbps_f32\":{bytes / single / 1e9:F1},\"speedup\":{single / half:F2},{bf16.SpreadJson}}}"));
    }

    /// <summary>Median seconds per call on BF16 copies of q, k, v (BF16 output) and on the F32 operands, interleaved.</summary>
    private static Comparison Bf16AgainstF32(CpuBackend backend, Tensor q, Tensor k, Tensor v, Tensor o, AttentionOptions options)
    {
        using var qh = Cast.To(q, DType.BF16);
        using var kh = Cast.To(k, DType.BF16);
        using var vh = Cast.To(v, DType.BF16);
        using var oh = Tensor.Empty(o.Shape, DType.BF16, backend);
        return Interleaved.Median(() => Attention.Forward(qh, kh, vh, oh, options), () => Attention.Forward(q, k, v, o, options), rounds: 11);
    }

    private static void Line(string op, string shape, double ours, string peer, double theirs, Comparison timing) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"op\":\"{op}\",\"shape\":\"{shape}\",\"ours_gflops\":{ours:F1},\"peer\":\"{peer}\",\"peer_gflops\":{theirs:F1},\"ratio\":{ours / theirs:F3},{timing.SpreadJson}}}"));

    private static double MaxAbs(float[] a, float[] b)
    {
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs((double)a[i] - b[i]));
        return m;
    }
}
