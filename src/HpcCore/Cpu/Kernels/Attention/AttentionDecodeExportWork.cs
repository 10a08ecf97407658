// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The score exports of the decode kernel: p[r, j] = exp(logit[r, j] - m_r) / l_r from the final logits the kernel
// kept and each row's final (m, l), summed over the queries of each head into KeyTotals and copied for the
// requested query rows into RowProbabilities. One item per (batch, kv head); a row whose keys are all masked has
// l = 0 and gets zeros (its m is -inf, so 0 stands in as the reference: exp(-inf - 0) = 0, never NaN).
using System.Numerics.Tensors;

namespace HpcCore.Cpu;

/// <summary>Turns the decode kernel's kept logits into KeyTotals and RowProbabilities.</summary>
internal unsafe struct AttentionDecodeExportWork : IParallelBody
{
    public AttentionProblem P;

    /// <summary>Rows per kv head (Group * Tq).</summary>
    public int Rows;

    /// <summary>Final logits [B, Hkv, Rows, Slots] and final (m, l) per row [B, Hkv, Rows, 2].</summary>
    public float* Logits, Stats;

    /// <inheritdoc/>
    public readonly void Invoke(int bh)
    {
        int hkv = bh % P.KvHeads, b = bh / P.KvHeads, n = P.Slots;
        float* scratch = AttentionScratch.Get(n);
        var p = new Span<float>(scratch, n);
        for (int r = 0; r < Rows; r++)
        {
            int g = r / P.Tq, t = r - g * P.Tq, h = hkv * P.Group + g;
            float m = Stats[((long)bh * Rows + r) * 2], l = Stats[((long)bh * Rows + r) * 2 + 1];
            if (l > 0f)
            {
                // SimdMath's exp, as the softmax kernel: the BCL's float exp widens to double (~25x slower).
                CpuKernels.ExpAndSum(new ReadOnlySpan<float>(Logits + ((long)bh * Rows + r) * n, n), m, p);
                TensorPrimitives.Multiply(p, 1f / l, p);
            }
            else
            {
                p.Clear();
            }
            if (P.KeyTotals != null)
            {
                var totals = new Span<float>(P.KeyTotals + ((long)b * P.Heads + h) * n, n);
                if (t == 0) p.CopyTo(totals);
                else TensorPrimitives.Add(totals, p, totals);
            }
            for (int ri = 0; ri < P.RowCount; ri++)
                if (P.RowIndices[ri] == t) p.CopyTo(new Span<float>(P.RowProbabilities + (((long)b * P.Heads + h) * P.RowCount + ri) * n, n));
        }
    }
}
