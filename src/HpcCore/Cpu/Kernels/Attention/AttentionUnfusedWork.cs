// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The unfused reference variant: for each query, the whole score row (dot products), the logit transforms of
// AttentionProblem.Logit (keys of a dropped BlockMask block are skipped), a max-subtracted softmax, then the probability-weighted sum of value rows. One item is
// one (batch, head), so the item owns its rows of KeyTotals. It is the benchmark baseline ("plain C# with
// TensorPrimitives") and the fallback on CPUs without Vector512.
using System.Numerics.Tensors;

namespace HpcCore.Cpu;

/// <summary>Row-at-a-time attention over one (batch, head) per item.</summary>
internal unsafe struct AttentionUnfusedWork : IParallelBody
{
    public AttentionProblem P;

    /// <inheritdoc/>
    public readonly void Invoke(int item)
    {
        int h = item % P.Heads, b = item / P.Heads, hkv = h / P.Group, d = P.D, n = P.Slots;
        float* scratch = AttentionScratch.Get(n + d);
        var s = new Span<float>(scratch, n);
        var acc = new Span<float>(scratch + n, d);
        var totals = P.KeyTotals == null ? default : new Span<float>(P.KeyTotals + ((long)b * P.Heads + h) * n, n);
        totals.Clear();
        int keyLength = P.KeyLength(b);
        for (int t = 0; t < P.Tq; t++)
        {
            var q = new ReadOnlySpan<float>(P.Q + b * P.Qs.Batch + t * P.Qs.Token + h * P.Qs.Head, d);
            byte* blocks = P.BlockRow(b, h, t);
            for (int j = 0; j < n; j++)
            {
                int pos = P.Position(b, hkv, j);
                if (blocks != null && blocks[pos / P.BlockSize] == 0)
                {
                    s[j] = float.NegativeInfinity;
                    continue;
                }
                float raw = P.Scale * TensorPrimitives.Dot(q, new ReadOnlySpan<float>(P.K + b * P.Ks.Batch + pos * P.Ks.Token + hkv * P.Ks.Head, d));
                s[j] = P.Logit(b, h, t, pos, keyLength, raw);
            }
            CpuKernels.SoftmaxRow(s, s);
            acc.Clear();
            for (int j = 0; j < n; j++)
            {
                if (s[j] == 0f) continue;
                int pos = P.Position(b, hkv, j);
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(P.V + b * P.Vs.Batch + pos * P.Vs.Token + hkv * P.Vs.Head, d), s[j], acc, acc);
            }
            acc.CopyTo(new Span<float>(P.O + b * P.Os.Batch + t * P.Os.Token + h * P.Os.Head, d));
            if (!totals.IsEmpty) TensorPrimitives.Add(totals, s, totals);
            for (int ri = 0; ri < P.RowCount; ri++)
                if (P.RowIndices[ri] == t) s.CopyTo(new Span<float>(P.RowProbabilities + (((long)b * P.Heads + h) * P.RowCount + ri) * n, n));
        }
    }
}
