// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// `quick roofline` (issue #18): what fraction of this machine's measured peak each hot kernel reaches. The peaks are
// measured in the same process, interleaved round by round with the kernel, so a round on a loaded machine lowers
// both sides and the per-round fraction keeps its meaning:
// - compute peak: independent Vector512 (or Vector256) FMA chains on every pool thread (no memory traffic);
// - memory peak: a STREAM-style copy of 256 MiB (McCalpin's "Copy": bytes read + bytes written), far past the caches.
// GEMM and prefill attention are compared with the compute peak, matrix-vector products and decode attention (whose
// K/V or weights are read once per call) with the copy bandwidth.
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using HpcCore.Cpu;
using HpcCore.Ops;
using HpcCore.Tensors;

namespace HpcCore.Benchmarks.Quick;

/// <summary>The `quick roofline` benchmark: kernel throughput as a fraction of the measured peak.</summary>
public static class QuickRoofline
{
    private const int FmaChains = 12, FmaSteps = 1_000_000;

    /// <summary>Prints one JSON line per (kernel, threads) and one per peak.</summary>
    public static int Run()
    {
        var threadCounts = QuickBenchmarks.Threads == 1 ? new[] { 1 } : new[] { 1, QuickBenchmarks.Threads };
        foreach (int threads in threadCounts)
        {
            using var backend = new CpuBackend(threads);
            double fmaFlops = (double)threads * FmaChains * FmaSteps * 2 * (Vector512.IsHardwareAccelerated ? 16 : 8);
            void Peak() => FmaPeak(backend.Pool);
            const long copyBytes = 256L << 20;
            using var src = Tensor.Zeros(new Shape((int)(copyBytes / 4)), DType.F32, backend);
            using var dst = Tensor.Zeros(new Shape((int)(copyBytes / 4)), DType.F32, backend);
            void Copy() => src.CopyTo(dst);
            Report(threads, "peak-fma", "", "GFLOP/s", Interleaved.Median(Peak, Peak, rounds: 11, blockSeconds: 0.05), fmaFlops, fmaFlops);
            Report(threads, "peak-copy", "256MiB", "GB/s", Interleaved.Median(Copy, Copy, rounds: 11, blockSeconds: 0.05), 2.0 * copyBytes, 2.0 * copyBytes);

            // GEMM 1024x768x768 (the issue's shape) against the FMA peak.
            using (var a = Random(backend, 1, 1024, 768))
            using (var b = Random(backend, 2, 768, 768))
            using (var c = Tensor.Empty(new Shape(1024, 768), DType.F32, backend))
            {
                double flops = 2.0 * 1024 * 768 * 768;
                Report(threads, "gemm", "1024x768x768", "GFLOP/s", Interleaved.Median(() => Gemm.Multiply(a, b, c), Peak, rounds: 11, blockSeconds: 0.05), flops, fmaFlops);
            }
            // Prefill attention B1 H12 T1024 D64 (4 H T^2 D FLOP) against the FMA peak.
            using (var q = Random(backend, 3, 1, 1024, 12, 64))
            using (var k = Random(backend, 4, 1, 1024, 12, 64))
            using (var v = Random(backend, 5, 1, 1024, 12, 64))
            using (var o = Tensor.Empty(new Shape(1, 1024, 12, 64), DType.F32, backend))
            {
                double flops = 4.0 * 12 * 1024 * 1024 * 64;
                Report(threads, "attention", "B1xH12xT1024xD64", "GFLOP/s", Interleaved.Median(() => Attention.Forward(q, k, v, o), Peak, rounds: 11, blockSeconds: 0.05), flops, fmaFlops);
            }
            // GEMV against a 4096x4096 weight (64 MiB, read once per call) against the copy bandwidth.
            using (var x = Random(backend, 6, 1, 4096))
            using (var w = Random(backend, 7, 4096, 4096))
            using (var y = Tensor.Empty(new Shape(1, 4096), DType.F32, backend))
            {
                double bytes = 4096.0 * 4096 * 4;
                Report(threads, "gemv", "1x4096x4096", "GB/s", Interleaved.Median(() => Gemm.Multiply(x, w, y, new GemmOptions(TransposeB: true)), Copy, rounds: 11, blockSeconds: 0.05), bytes, 2.0 * copyBytes);
            }
            PagedDecode(backend, threads, Copy, 2.0 * copyBytes);
        }
        return 0;
    }

    // Paged decode: B1, H32 over Hkv8, D128, 4096 keys per kv head in 64-token F32 pages (32 MiB of K/V read per step).
    private static void PagedDecode(CpuBackend backend, int threads, Action copy, double copyBytes)
    {
        const int h = 32, hkv = 8, d = 128, tokens = 4096, pageTokens = 64, blocks = tokens / pageTokens;
        using var q = Random(backend, 8, 1, 1, h, d);
        using var keys = Random(backend, 9, hkv * blocks, pageTokens, d);
        using var values = Random(backend, 10, hkv * blocks, pageTokens, d);
        var table = new int[hkv * blocks];
        for (int i = 0; i < table.Length; i++) table[i] = i;
        using var tables = Tensor.From<int>(table, new Shape(1, hkv, blocks), backend);
        using var lengths = Tensor.From<int>(Enumerable.Repeat(tokens, hkv).ToArray(), new Shape(1, hkv), backend);
        using var o = Tensor.Empty(new Shape(1, 1, h, d), DType.F32, backend);
        var kv = new PagedKv(keys, values, tables, lengths);
        double bytes = 2.0 * hkv * tokens * d * sizeof(float);
        Report(threads, "paged-decode", $"B1xH{h}xHkv{hkv}xTk{tokens}xD{d}", "GB/s",
            Interleaved.Median(() => PagedAttention.Forward(q, kv, o), copy, rounds: 11, blockSeconds: 0.05), bytes, copyBytes);
    }

    // One line: the kernel's median throughput, the peak's, and the per-round fraction (kernel rate / peak rate).
    private static void Report(int threads, string kernel, string shape, string unit, Comparison t, double work, double peakWork)
    {
        double scale = 1e9;
        double achieved = work / t.Ours / scale, peak = peakWork / t.Peer / scale;
        var fractions = t.OursRounds.Zip(t.PeerRounds, (o, p) => work / o / (peakWork / p)).ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"op\":\"roofline\",\"kernel\":\"{kernel}\",\"shape\":\"{shape}\",\"threads\":{threads},\"unit\":\"{unit}\",\"achieved\":{achieved:F1},\"peak\":{peak:F1}," +
            $"\"fraction\":{Interleaved.Quantile(fractions, 0.5):F3},\"fraction_p25_p75\":[{Interleaved.Quantile(fractions, 0.25):F3},{Interleaved.Quantile(fractions, 0.75):F3}],{MachineLoad.Json()}}}"));
    }

    private static Tensor Random(CpuBackend backend, int seed, params int[] dims)
    {
        var shape = new Shape(dims);
        return Tensor.From<float>(Infrastructure.BenchBackends.Uniform((int)shape.ElementCount, seed), shape, backend);
    }

    // FMA_CHAINS independent multiply-add chains per thread: enough in flight to cover the FMA latency on two pipes.
    private static void FmaPeak(CpuWorkerPool pool) => pool.For(pool.Threads, new FmaBody());

    private readonly struct FmaBody : IParallelBody
    {
        public void Invoke(int index)
        {
            if (Vector512.IsHardwareAccelerated) Chains512(index);
            else Chains256(index);
        }

        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        private static void Chains512(int seed)
        {
            var m = Vector512.Create(0.999999f);
            var add = Vector512.Create(1e-7f);
            Vector512<float> a0 = Vector512.Create((float)seed), a1 = a0 + add, a2 = a1 + add, a3 = a2 + add, a4 = a3 + add, a5 = a4 + add;
            Vector512<float> a6 = a5 + add, a7 = a6 + add, a8 = a7 + add, a9 = a8 + add, a10 = a9 + add, a11 = a10 + add;
            for (int i = 0; i < FmaSteps; i++)
            {
                a0 = Vector512.FusedMultiplyAdd(a0, m, add); a1 = Vector512.FusedMultiplyAdd(a1, m, add);
                a2 = Vector512.FusedMultiplyAdd(a2, m, add); a3 = Vector512.FusedMultiplyAdd(a3, m, add);
                a4 = Vector512.FusedMultiplyAdd(a4, m, add); a5 = Vector512.FusedMultiplyAdd(a5, m, add);
                a6 = Vector512.FusedMultiplyAdd(a6, m, add); a7 = Vector512.FusedMultiplyAdd(a7, m, add);
                a8 = Vector512.FusedMultiplyAdd(a8, m, add); a9 = Vector512.FusedMultiplyAdd(a9, m, add);
                a10 = Vector512.FusedMultiplyAdd(a10, m, add); a11 = Vector512.FusedMultiplyAdd(a11, m, add);
            }
            Sink = (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11).ToScalar();
        }

        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        private static void Chains256(int seed)
        {
            var m = Vector256.Create(0.999999f);
            var add = Vector256.Create(1e-7f);
            Vector256<float> a0 = Vector256.Create((float)seed), a1 = a0 + add, a2 = a1 + add, a3 = a2 + add, a4 = a3 + add, a5 = a4 + add;
            Vector256<float> a6 = a5 + add, a7 = a6 + add, a8 = a7 + add, a9 = a8 + add, a10 = a9 + add, a11 = a10 + add;
            for (int i = 0; i < FmaSteps; i++)
            {
                a0 = Vector256.FusedMultiplyAdd(a0, m, add); a1 = Vector256.FusedMultiplyAdd(a1, m, add);
                a2 = Vector256.FusedMultiplyAdd(a2, m, add); a3 = Vector256.FusedMultiplyAdd(a3, m, add);
                a4 = Vector256.FusedMultiplyAdd(a4, m, add); a5 = Vector256.FusedMultiplyAdd(a5, m, add);
                a6 = Vector256.FusedMultiplyAdd(a6, m, add); a7 = Vector256.FusedMultiplyAdd(a7, m, add);
                a8 = Vector256.FusedMultiplyAdd(a8, m, add); a9 = Vector256.FusedMultiplyAdd(a9, m, add);
                a10 = Vector256.FusedMultiplyAdd(a10, m, add); a11 = Vector256.FusedMultiplyAdd(a11, m, add);
            }
            Sink = (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11).ToScalar();
        }
    }

    private static float Sink { get; set; }
}
