// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Attention of a chunk of queries over a paged KV cache (PagedAttentionArgs), one group per (batch, query head),
// deterministic: no atomics, so the output and every export are the same bits run to run.
// Algorithm, per work item (b, h) (grid-stride), for each query row t in order:
//   1. The row's attended list: without a selection the head's tokens [0, limit_t), limit_t = L - Tq + t + 1 clamped
//      to [0, L]; with one, the leading selected tokens below limit_t (a binary search over the ascending list).
//      n_t slots, plus the compensation slot n_t when the head's bias is not -inf.
//   2. The query row (rotated at n_t - 1 with RopeKeys) is staged in dynamic shared memory [D].
//   3. Pass 1, threads over slots (slot j always on thread j mod G): logit = Scale q.k_j (k_j widened to F32 and,
//      with RopeKeys, rotated at j; the compensation key is never rotated and gets its bias added), kept in the
//      group's slice of the global scratch; row max and sum of exp by group all-reduce (GroupReduce: fixed shuffle
//      tree, so fixed order); p_j = exp(s_j - m) / l overwrites the logit, and the same thread adds p_j into
//      KeyTotals / WindowTotals and stores it into Probabilities at the slot's token index. Since a slot's token and
//      thread are the same for every row of the item, each export element is accumulated by one thread, rows in order.
//   4. Pass 2, threads over D: out[c] = sum_j p_j v_j[c] (+ p_comp cv[c]) in slot order.
// A row whose logits are all -inf (nothing visible, no compensation) is written as zeros and exports nothing.
// Range safety (device tensors are not range-checked on the host): lengths are clamped to [0, MaxBlocks P], counts to
// [0, MaxSel]; a slot whose token lies outside [0, L) or whose page id lies outside [0, NPages) gets a -inf logit, is
// never read, and exports nothing; tokens at or past ExportKeys are not exported.
// Exports are zeroed by the host before the launch. Precision: F32 accumulation, XMath.Exp (ex2.approx on PTX);
// summation order differs from the CPU (results agree within Tolerance.GpuF32).
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

/// <summary>Paged attention, one group per (batch, query head), rows in order.</summary>
internal static class PagedAttentionGroupKernel
{
    /// <param name="q">Q [B, Tq, H, D].</param>
    /// <param name="keys">Key pages [NPages, P, D].</param>
    /// <param name="values">Value pages [NPages, P, D].</param>
    /// <param name="tables">Block tables [B, Hkv, MaxBlocks].</param>
    /// <param name="lengths">Lengths [B, Hkv].</param>
    /// <param name="selected">SelectedKeys [B, Hkv, MaxSel] (read only when HasSel).</param>
    /// <param name="counts">SelectedCounts [B, Hkv] (read only when HasSel).</param>
    /// <param name="dest">Output [B, Tq, H, D].</param>
    /// <param name="totals">KeyTotals [B, H, ExportKeys], zeroed by the host (written only when HasTotals).</param>
    /// <param name="window">WindowTotals [B, H, ExportKeys], zeroed by the host (written only when HasWindow).</param>
    /// <param name="probs">Probabilities [B, Tq, H, ExportKeys], zeroed by the host (written only when HasProbs).</param>
    /// <param name="scratch">
    /// [groups, SlotStride] logits then probabilities, followed by the compensation keys [B, Hkv, D], values
    /// [B, Hkv, D] and biases [B, Hkv] at the params' offsets (when HasComp).
    /// </param>
    /// <param name="frequencies">[R/2] inverse RoPE frequencies in double (read only when Rope).</param>
    /// <param name="p">Dims, flags, scalars and scratch offsets.</param>
    internal static void Kernel<T, TElem, TReduce>(
        ArrayView<float> q, ArrayView<T> keys, ArrayView<T> values, ArrayView<int> tables, ArrayView<int> lengths,
        ArrayView<int> selected, ArrayView<int> counts, ArrayView<float> dest, ArrayView<float> totals,
        ArrayView<float> window, ArrayView<float> probs, ArrayView<float> scratch, ArrayView<double> frequencies,
        PagedAttentionParams p)
        where T : unmanaged
        where TElem : struct, IAttentionElement<T>
        where TReduce : struct, IGroupReduce
    {
        var sq = SharedMemory.GetDynamic<float>();                       // [D] the (rotated) query row
        var red = SharedMemory.Allocate<float>(LaunchPolicy.MaxReduceThreads);
        int tid = Group.IdxX, g = Group.DimX, d = p.D;
        int group = p.H / p.Hkv;
        long capacity = (long)p.MaxBlocks * p.PageTokens;
        long s0 = (long)Grid.IdxX * p.SlotStride;                       // this group's scratch slice
        for (long w = Grid.IdxX; w < (long)p.Batch * p.H; w += Grid.DimX)
        {
            int b = (int)(w / p.H), h = (int)(w - (long)b * p.H);
            long bg = (long)b * p.Hkv + h / group;
            int len = lengths[bg];
            len = len < 0 ? 0 : len > capacity ? (int)capacity : len;
            int count = p.HasSel != 0 ? XMath.Clamp(counts[bg], 0, p.MaxSel) : 0;
            long selBase = bg * p.MaxSel;
            float bias = p.HasComp != 0 ? scratch[p.OffCompBias + bg] : float.NegativeInfinity;
            int comp = bias == float.NegativeInfinity ? 0 : 1;
            long exportRow = w * p.ExportKeys;                          // KeyTotals / WindowTotals row of (b, h)
            for (int t = 0; t < p.Tq; t++)
            {
                int limit = XMath.Clamp(len - p.Tq + t + 1, 0, len);
                int n = p.HasSel != 0 ? CountBelow(selected, selBase, count, limit) : limit;
                int slots = n + comp;
                long qRow = (((long)b * p.Tq + t) * p.H + h) * d;

                for (int e = tid; e < d; e += g)
                    sq[e] = p.Rope != 0 ? PagedRope.RotatedEntry(q, qRow, e, p.RotaryDim, p.HalfSplit, n - 1L, frequencies) : q[qRow + e];
                Group.Barrier();

                float m = float.NegativeInfinity;
                for (int j = tid; j < slots; j += g)
                {
                    float s = j < n
                        ? KeyLogit<T, TElem>(sq, keys, tables, selected, frequencies, p, bg, selBase, len, j)
                        : Dot(sq, scratch, p.OffCompKeys + bg * d, d) * p.Scale + bias;
                    scratch[s0 + j] = s;
                    m = GroupReduce.MaxNaN(m, s);
                }
                m = default(TReduce).Max(m, red);
                // A row that sees no key (max -inf) runs the rest with no slots and writes zeros: no early exit
                // between barriers, which pocl 6 miscompiles even when uniform over the group (docs/OPENCL.md).
                if (m == float.NegativeInfinity) slots = n = 0;

                float l = 0f;
                for (int j = tid; j < slots; j += g)
                {
                    float s = scratch[s0 + j];
                    float e = s == float.NegativeInfinity ? 0f : XMath.Exp(s - m);
                    scratch[s0 + j] = e;
                    l += e;
                }
                l = default(TReduce).Sum(l, red);

                long probRow = (((long)b * p.Tq + t) * p.H + h) * p.ExportKeys;
                bool inWindow = t >= p.WindowFromRow;
                for (int j = tid; j < slots; j += g)
                {
                    float pj = scratch[s0 + j] / l;
                    scratch[s0 + j] = pj;
                    if (j >= n) continue;
                    int token = p.HasSel != 0 ? selected[selBase + j] : j;
                    if (!Readable(tables, p, bg, len, token) || token >= p.ExportKeys) continue;
                    if (p.HasTotals != 0) totals[exportRow + token] += pj;
                    if (p.HasWindow != 0 && inWindow) window[exportRow + token] += pj;
                    if (p.HasProbs != 0) probs[probRow + token] = pj;
                }
                Group.Barrier();

                for (int c = tid; c < d; c += g)
                {
                    float acc = 0f;
                    for (int j = 0; j < n; j++)
                    {
                        int token = p.HasSel != 0 ? selected[selBase + j] : j;
                        if (!Readable(tables, p, bg, len, token)) continue;
                        acc += scratch[s0 + j] * default(TElem).Load(values[RowOf(tables, p, bg, token) + c]);
                    }
                    if (comp != 0 && slots > n) acc += scratch[s0 + n] * scratch[p.OffCompValues + bg * d + c];
                    dest[qRow + c] = acc;
                }
                // No barrier here: pass 2 reads no shared memory, and the next row rewrites the scratch slice only
                // after its staging barrier, which every thread reaches after finishing this pass.
            }
        }
    }

    /// <summary>
    /// Scale q.k for slot <paramref name="j"/> (token from the selection or j; the key rotated at j with RopeKeys),
    /// -inf when the token is unreadable.
    /// </summary>
    private static float KeyLogit<T, TElem>(ArrayView<float> sq, ArrayView<T> keys, ArrayView<int> tables, ArrayView<int> selected,
        ArrayView<double> frequencies, PagedAttentionParams p, long bg, long selBase, int len, int j)
        where T : unmanaged
        where TElem : struct, IAttentionElement<T>
    {
        int token = p.HasSel != 0 ? selected[selBase + j] : j;
        if (!Readable(tables, p, bg, len, token)) return float.NegativeInfinity;
        long row = RowOf(tables, p, bg, token);
        var codec = default(TElem);
        float dot = 0f;
        int rotary = p.RotaryDim, pairs = rotary / 2;
        for (int i = 0; i < pairs; i++)
        {
            int e0 = PagedRope.First(i, p.HalfSplit), e1 = PagedRope.Second(i, rotary, p.HalfSplit);
            PagedRope.CosSin(j, frequencies[i], out float c, out float s);
            float k0 = codec.Load(keys[row + e0]), k1 = codec.Load(keys[row + e1]);
            dot += sq[e0] * (k0 * c - k1 * s) + sq[e1] * (k0 * s + k1 * c);
        }
        for (int e = rotary; e < p.D; e++) dot += sq[e] * codec.Load(keys[row + e]);
        return dot * p.Scale;
    }

    /// <summary>Token <paramref name="token"/> of head bg exists and its page id names a page of the pool.</summary>
    private static bool Readable(ArrayView<int> tables, PagedAttentionParams p, long bg, int len, int token)
    {
        if (token < 0 || token >= len) return false;
        int page = tables[bg * p.MaxBlocks + token / p.PageTokens];
        return page >= 0 && page < p.Pages;
    }

    /// <summary>First element of token <paramref name="token"/>'s row in the page pool (the token must be readable).</summary>
    private static long RowOf(ArrayView<int> tables, PagedAttentionParams p, long bg, int token)
    {
        int page = tables[bg * p.MaxBlocks + token / p.PageTokens];
        return ((long)page * p.PageTokens + token % p.PageTokens) * p.D;
    }

    private static float Dot(ArrayView<float> a, ArrayView<float> b, long bBase, int d)
    {
        float dot = 0f;
        for (int e = 0; e < d; e++) dot += a[e] * b[bBase + e];
        return dot;
    }

    /// <summary>Leading entries of the ascending selection below <paramref name="limit"/> (binary search; every thread gets the same).</summary>
    private static int CountBelow(ArrayView<int> selected, long selBase, int count, int limit)
    {
        int lo = 0, hi = count;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (selected[selBase + mid] < limit) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
