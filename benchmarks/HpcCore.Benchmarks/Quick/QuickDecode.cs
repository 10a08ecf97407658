// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// `quick decode`: the CPU attention decode path (Tq of 1..8 over a long KV cache) in GB/s of K/V read, against a
// same-process memcpy (read + write traffic of a large copy), interleaved; one JSON line per shape. The ratio is
// memcpy time / attention time for the same byte count (1.0 = attention streams K/V as fast as a copy moves data).
using System.Globalization;
using HpcCore.Cpu;
using HpcCore.Ops;
using HpcCore.Tensors;

namespace HpcCore.Benchmarks.Quick;

/// <summary>The `quick decode` bandwidth benchmark.</summary>
public static class QuickDecode
{
    private static readonly (int H, int Hkv, int Tq, int Tk, int D)[] Shapes =
        [(32, 8, 1, 16384, 128), (32, 8, 4, 16384, 128), (32, 8, 8, 16384, 128), (32, 32, 1, 4096, 128), (8, 1, 1, 32768, 128)];

    /// <summary>Runs every shape; returns 0.</summary>
    public static int Run()
    {
        using var backend = new CpuBackend(QuickBenchmarks.Threads);
        foreach (var (h, hkv, tq, tk, d) in Shapes)
        {
            using var q = Tensor.From<float>(Infrastructure.BenchBackends.Uniform(tq * h * d, 4), new Shape(1, tq, h, d), backend);
            using var k = Tensor.From<float>(Infrastructure.BenchBackends.Uniform(tk * hkv * d, 5), new Shape(1, tk, hkv, d), backend);
            using var v = Tensor.From<float>(Infrastructure.BenchBackends.Uniform(tk * hkv * d, 6), new Shape(1, tk, hkv, d), backend);
            using var o = Tensor.Empty(new Shape(1, tq, h, d), DType.F32, backend);
            using var copy = Tensor.Empty(new Shape(1, tk, hkv, d), DType.F32, backend);
            double bytes = 2.0 * tk * hkv * d * sizeof(float);
            var timing = Interleaved.Median(() => Attention.Forward(q, k, v, o), () => k.CopyTo(copy));
            var (attn, memcpy) = timing;
            // The copy moves bytes/2 in and bytes/2 out: its traffic equals the bytes decode reads.
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"op\":\"attention-decode\",\"shape\":\"B1xH{h}xHkv{hkv}xTq{tq}xTk{tk}xD{d}\",\"ms\":{attn * 1e3:F3},\"kv_gbps\":{bytes / attn / 1e9:F1},\"copy_gbps\":{bytes / memcpy / 1e9:F1},\"ratio\":{memcpy / attn:F3},{timing.SpreadJson}}}"));
        }
        return 0;
    }
}
