// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Second stage of the split-over-keys (flash-decoding) attention path: merges the per-chunk partial rows
// (m_s, l_s, O_s) that AttentionFusedKernel wrote with Splits > 1 into the output, with the log-sum-exp rescaling of
// Dao et al. 2023 ("Flash-Decoding for long-context inference"; FlashAttention-2 section 3.1.1):
// M = max_s m_s, L = sum_s l_s exp(m_s - M), out = sum_s O_s exp(m_s - M) / L. Chunks that saw no visible key
// (m_s = -inf) contribute nothing; a row with no visible key at all gives zeros, like the unsplit kernel.
// One thread per output element, grid-stride; each reads Splits partials (the (m, l) pairs are shared by the D threads
// of a row and come from cache). Kernels never throw.
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

/// <summary>Dims, offsets and strides of <see cref="AttentionCombineKernel"/>.</summary>
internal readonly struct AttentionCombineParams(in AttentionParams a)
{
    public readonly int Batch = a.Batch, Tq = a.Tq, H = a.H, D = a.D, Bq = a.Bq, Splits = a.Splits;
    public readonly long OffD = a.OffD, DsB = a.DsB, DsT = a.DsT, DsH = a.DsH;
}

/// <summary>Merges split-over-keys attention partials into the output.</summary>
internal static class AttentionCombineKernel
{
    /// <param name="partials">[work items, Bq, D + 2] (m, l, O) rows written by <see cref="AttentionFusedKernel"/>.</param>
    /// <param name="dest">Storage of the output [B, Tq, H, D].</param>
    /// <param name="p">Dims, offsets and strides.</param>
    internal static void Kernel<T, TElem>(ArrayView<float> partials, ArrayView<T> dest, AttentionCombineParams p)
        where T : unmanaged
        where TElem : struct, IAttentionElement<T>
    {
        int d = p.D, qBlocks = (p.Tq + p.Bq - 1) / p.Bq;
        long count = (long)p.Batch * p.Tq * p.H * d;
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < count; i += stride)
        {
            int c = (int)(i % d);
            long bth = i / d;
            int h = (int)(bth % p.H);
            long bt = bth / p.H;
            int t = (int)(bt % p.Tq), b = (int)(bt / p.Tq);
            int qb = t / p.Bq, r = t - qb * p.Bq;
            long first = (((long)b * p.H + h) * qBlocks + qb) * p.Splits;
            float m = float.NegativeInfinity;
            for (int s = 0; s < p.Splits; s++) m = XMath.Max(m, partials[((first + s) * p.Bq + r) * (d + 2)]);
            float l = 0f, acc = 0f;
            if (m != float.NegativeInfinity)
            {
                for (int s = 0; s < p.Splits; s++)
                {
                    long row = ((first + s) * p.Bq + r) * (d + 2);
                    float ms = partials[row];
                    if (ms == float.NegativeInfinity) continue;
                    float scale = XMath.Exp(ms - m);
                    l += partials[row + 1] * scale;
                    acc += partials[row + 2 + c] * scale;
                }
            }
            dest[p.OffD + b * p.DsB + t * p.DsT + h * p.DsH + c] = default(TElem).Store(l > 0f ? acc / l : 0f);
        }
    }
}
