// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Fused scaled-dot-product attention, FlashAttention-2 style (Dao 2023, "FlashAttention-2: Faster Attention with
// Better Parallelism and Work Partitioning", Algorithm 1), fp32 SIMT, implementing every option of AttentionArgs.
// Algorithm: one group per (batch, head, query block of Bq rows), grid-stride over those work items. The group stages
// its Q block [Bq, D] in dynamic shared memory, then for each key tile of Bk slots stages K and V [Bk, D] (rows read
// through SelectedKeys when given: no copies), computes the masked, soft-capped, biased logits S [Bq, Bk], updates the
// running row max m and sum l (online softmax: alpha = exp(m_old - m_new) rescales l and the output accumulator O,
// which also lives in shared memory, [Bq, D]), and accumulates O += P V. At the end O / l is written; rows with no
// visible key (l == 0) are written as zeros. exp is XMath.Exp (ex2.approx on PTX); the soft-cap tanh is built from
// it (PTX's tanh.approx is too coarse).
// Key tiles wholly outside the window / causal band / KeyLengths of the query block are skipped (not with
// SelectedKeys, whose positions are arbitrary).
// Score exports (KeyTotals, RowProbabilities) take a second pass over the key tiles once m and l are final: the logits
// are recomputed from Q and K (no V), p = exp(s - m) / l is atomically added into KeyTotals[b, h, slot] (float
// Atomic.Add, red.add.f32 on PTX; the host zeroes KeyTotals first) and stored into RowProbabilities for every requested
// row of the block (a scan of RowIndices per score). Cost: a second Q K^T (about +50% of the attention FLOPs, the
// whole key range when RowProbabilities is requested), Bq * Nk atomics per block and nRows compares per score.
// Limits: shared memory holds (2 Bq D + Bk (2 D + 1) + Bq (Bk + 1) + 3 Bq) floats, kept within 48 KB by LaunchPolicy.AttentionPlanFor
// (D <= LaunchPolicy.MaxAttentionHeadDim = 256); no tensor cores (mma.sync); the row statistics update uses Bq
// threads of the group; row-reduction order differs from the CPU kernel (results agree within Tolerance.GpuF32).
// Operands: F32, F16 or BF16 through an IAttentionElement codec (widened on staging, so shared memory and every
// accumulation stay F32; the output is rounded once on store).
// BlockMask: a pair (t, pos) is dropped when its block entry is 0; a key tile whose blocks are all 0 for the whole
// query block is skipped before staging (the decision is uniform over the group, so barriers stay convergent).
// Split over keys (flash-decoding, Dao et al. 2023, "Flash-Decoding for long-context inference"): with Splits > 1 a
// work item covers one chunk of ChunkSlots key slots and writes its unnormalised partial (m, l, O) rows to a scratch
// buffer instead of the output; AttentionCombineKernel merges the chunks. LaunchPolicy.AttentionPlanFor picks it for
// Tq <= 8 over long key ranges when no score export is requested (the exports need the final m and l in-kernel).
// Kernels never throw: the host wrapper validates what the kernel cannot do (see AttentionKernel).
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;

/// <summary>Dims, flags, scalars, element offsets and strides of <see cref="AttentionFusedKernel"/>.</summary>
internal readonly struct AttentionParams
{
    public readonly int Batch, Tq, Tk, H, Hkv, D, Nk, Bq, Bk, Rows;
    public readonly int HasPad, HasLen, BiasLayout, HasPos, HasSel, HasTotals, HasRows;
    public readonly int HasBlock, BlockSize, BlockBatch, BlockHeads, QueryBlocks, KeyBlocks;
    public readonly int Splits, ChunkSlots;
    public readonly float Scale, SoftCap;
    public readonly int Left, Right;
    public readonly long OffQ, OffK, OffV, OffD, OffPad, OffLen, OffBias, OffPos, OffSel, OffTotals, OffRows, OffProbs, OffBlock;
    public readonly long QsB, QsT, QsH, KsB, KsT, KsH, VsB, VsT, VsH, DsB, DsT, DsH;

    public AttentionParams(in AttentionArgs a, LaunchPolicy.AttentionPlan plan)
    {
        Batch = a.Batch; Tq = a.QueryLength; Tk = a.KeyLength; H = a.Heads; Hkv = a.KvHeads; D = a.HeadDim;
        Nk = a.KeySlots; Bq = plan.QueryBlock; Bk = plan.KeyTile; Rows = a.RowIndices?.Shape[0] ?? 0;
        Splits = plan.Splits; ChunkSlots = plan.ChunkSlots;
        HasBlock = a.BlockMask is null ? 0 : 1;
        BlockSize = a.BlockSize;
        BlockBatch = a.BlockMask?.Shape[0] ?? 1;
        BlockHeads = a.BlockMask?.Shape[1] ?? 1;
        QueryBlocks = (a.QueryLength + a.BlockSize - 1) / a.BlockSize;
        KeyBlocks = (a.KeyLength + a.BlockSize - 1) / a.BlockSize;
        OffBlock = a.BlockMask?.Offset ?? 0;
        HasPad = a.KeyPaddingMask is null ? 0 : 1;
        HasLen = a.KeyLengths is null ? 0 : 1;
        BiasLayout = a.KeyBias?.Rank ?? 0;
        HasPos = a.PositionBias is null ? 0 : 1;
        HasSel = a.SelectedKeys is null ? 0 : 1;
        HasTotals = a.KeyTotals is null ? 0 : 1;
        HasRows = a.RowIndices is null ? 0 : 1;
        Scale = a.Scale; SoftCap = a.SoftCap; Left = a.WindowLeft; Right = a.WindowRight;
        OffQ = a.Q.Offset; OffK = a.K.Offset; OffV = a.V.Offset; OffD = a.Dest.Offset;
        OffPad = a.KeyPaddingMask?.Offset ?? 0; OffLen = a.KeyLengths?.Offset ?? 0; OffBias = a.KeyBias?.Offset ?? 0;
        OffPos = a.PositionBias?.Offset ?? 0; OffSel = a.SelectedKeys?.Offset ?? 0; OffTotals = a.KeyTotals?.Offset ?? 0;
        OffRows = a.RowIndices?.Offset ?? 0; OffProbs = a.RowProbabilities?.Offset ?? 0;
        (QsB, QsT, QsH) = (a.QStrides.Batch, a.QStrides.Token, a.QStrides.Head);
        (KsB, KsT, KsH) = (a.KStrides.Batch, a.KStrides.Token, a.KStrides.Head);
        (VsB, VsT, VsH) = (a.VStrides.Batch, a.VStrides.Token, a.VStrides.Head);
        (DsB, DsT, DsH) = (a.DestStrides.Batch, a.DestStrides.Token, a.DestStrides.Head);
    }
}

/// <summary>FlashAttention-2 style fused attention, one group per (batch, head, query block[, key chunk]).</summary>
internal static class AttentionFusedKernel
{
    /// <param name="q">Storage of Q [B, Tq, H, D].</param>
    /// <param name="k">Storage of K [B, Tk, Hkv, D].</param>
    /// <param name="v">Storage of V [B, Tk, Hkv, D].</param>
    /// <param name="dest">Storage of the output [B, Tq, H, D] (written only when Splits == 1).</param>
    /// <param name="pad">Storage of the padding mask (Bool/U8 [B, Tk]; read only when HasPad).</param>
    /// <param name="lengths">Storage of KeyLengths I32 [B] (read only when HasLen).</param>
    /// <param name="bias">Storage of KeyBias [B, Tk] or [B, Hkv, Tk] (read only when BiasLayout != 0).</param>
    /// <param name="pos">Storage of PositionBias [H, Tq, Tk] (read only when HasPos).</param>
    /// <param name="sel">Storage of SelectedKeys I32 [B, Hkv, Nk] (read only when HasSel).</param>
    /// <param name="totals">
    /// Storage of KeyTotals [B, H, Nk], zeroed by the host (written only when HasTotals); with Splits &gt; 1 (never
    /// together with an export) the scratch [work items, Bq, D + 2] of partial (m, l, O) rows, work item
    /// <c>((b H + h) qBlocks + qb) Splits + split</c>. (One slot for both: ILGPU's stream-kernel loaders stop at 15
    /// parameters.)
    /// </param>
    /// <param name="rows">Storage of RowIndices I32 [nRows] (read only when HasRows).</param>
    /// <param name="probs">Storage of RowProbabilities [B, H, nRows, Nk] (written only when HasRows).</param>
    /// <param name="blocks">Storage of BlockMask Bool/U8 [Bm, Hm, QueryBlocks, KeyBlocks] (read only when HasBlock).</param>
    /// <param name="p">Dims, flags, scalars, offsets and strides.</param>
    internal static void Kernel<T, TElem>(
        ArrayView<T> q, ArrayView<T> k, ArrayView<T> v, ArrayView<T> dest,
        ArrayView<byte> pad, ArrayView<int> lengths, ArrayView<float> bias, ArrayView<float> pos, ArrayView<int> sel,
        ArrayView<float> totals, ArrayView<int> rows, ArrayView<float> probs, ArrayView<byte> blocks, AttentionParams p)
        where T : unmanaged
        where TElem : struct, IAttentionElement<T>
    {
        var shared = SharedMemory.GetDynamic<float>();
        int d = p.D, bq = p.Bq, bk = p.Bk;
        var sQ = shared.SubView(0, bq * d);                       // [Bq, D]
        // K rows are padded to D + 1 floats and score rows to Bk + 1: in Scores the lanes of a warp read different key
        // rows at the same x, and in the softmax step different score rows at the same column; with row strides of
        // D = 64 or Bk = 32 floats (multiples of the 32 banks) each would be a 32-way bank conflict.
        int ks = d + 1, ss = bk + 1;
        var sK = shared.SubView(bq * d, bk * ks);                        // [Bk, D + 1]
        var sV = shared.SubView(bq * d + bk * ks, bk * d);               // [Bk, D]
        var sO = shared.SubView(bq * d + bk * ks + bk * d, bq * d);      // [Bq, D] output accumulator
        long statsAt = 2L * bq * d + (long)bk * ks + (long)bk * d;
        var sS = shared.SubView(statsAt, bq * ss);                // [Bq, Bk + 1] logits, then probabilities
        var sM = shared.SubView(statsAt + bq * ss, bq);           // running row max
        var sL = shared.SubView(statsAt + bq * ss + bq, bq);      // running row sum
        var sA = shared.SubView(statsAt + bq * ss + 2 * bq, bq);  // rescale factor of the current tile
        int tid = Group.IdxX, g = Group.DimX;
        int groupsPerKv = p.H / p.Hkv;
        int qBlocks = (p.Tq + bq - 1) / bq;
        long work = (long)p.Batch * p.H * qBlocks * p.Splits;
        for (long w = Grid.IdxX; w < work; w += Grid.DimX)
        {
            int split = (int)(w % p.Splits);
            long item = w / p.Splits;
            int qb = (int)(item % qBlocks);
            long bh = item / qBlocks;
            int h = (int)(bh % p.H), b = (int)(bh / p.H);
            int kvh = h / groupsPerKv, q0 = qb * bq;
            int len = p.HasLen != 0 ? lengths[p.OffLen + b] : p.Tk;
            int off = len - p.Tq;

            // Stage Q; reset O and the row statistics.
            for (int e = tid; e < bq * d; e += g)
            {
                int r = e / d, c = e - r * d, t = q0 + r;
                sQ[e] = t < p.Tq ? default(TElem).Load(q[p.OffQ + b * p.QsB + t * p.QsT + h * p.QsH + c]) : 0f;
                sO[e] = 0f;
            }
            for (int r = tid; r < bq; r += g)
            {
                sM[r] = float.NegativeInfinity;
                sL[r] = 0f;
            }
            Group.Barrier();

            // Key slot range that can be visible to this block (uniform over the group), cut to this item's chunk.
            int jStart = 0, jEnd = p.Nk;
            if (p.HasSel == 0)
            {
                int qLast = XMath.Min(q0 + bq, p.Tq) - 1;
                jEnd = XMath.Min(jEnd, len);
                if (p.Right >= 0) jEnd = XMath.Min(jEnd, qLast + off + p.Right + 1);
                if (p.Left >= 0) jStart = XMath.Max(0, q0 + off - p.Left) / bk * bk;
            }
            if (p.Splits > 1)
            {
                jStart = XMath.Max(jStart, split * p.ChunkSlots);
                jEnd = XMath.Min(jEnd, (split + 1) * p.ChunkSlots);
            }

            for (int j0 = jStart; j0 < jEnd; j0 += bk)
            {
                // A tile the block mask hides is skipped, but its barriers still run: pocl 6 hangs on a `continue`
                // past barriers even when it is uniform over the group (docs/OPENCL.md).
                bool visible = TileVisible(blocks, p, b, h, q0, j0);
                if (visible) StageKeys<T, TElem>(k, v, sel, sK, sV, p, b, kvh, j0, true);
                Group.Barrier();
                if (visible) Scores(pad, bias, pos, sel, blocks, sQ, sK, sS, p, b, h, kvh, q0, j0, len, off);
                Group.Barrier();
                // Online softmax: new row max, rescale factor, probabilities and row sum.
                for (int r = tid; r < (visible ? bq : 0); r += g)
                {
                    float mOld = sM[r], mNew = mOld;
                    for (int c = 0; c < bk; c++) mNew = XMath.Max(mNew, sS[r * ss + c]);
                    float alpha = 1f, sum = 0f;
                    if (mNew != float.NegativeInfinity)
                    {
                        alpha = mOld == float.NegativeInfinity ? 0f : XMath.Exp(mOld - mNew);
                        for (int c = 0; c < bk; c++)
                        {
                            float s = sS[r * ss + c];
                            float e = s == float.NegativeInfinity ? 0f : XMath.Exp(s - mNew);
                            sS[r * ss + c] = e;
                            sum += e;
                        }
                    }
                    else
                    {
                        for (int c = 0; c < bk; c++) sS[r * ss + c] = 0f;
                    }
                    sM[r] = mNew;
                    sL[r] = sL[r] * alpha + sum;
                    sA[r] = alpha;
                }
                Group.Barrier();
                // O = alpha * O + P V (each thread owns the same O elements throughout).
                for (int e = tid; e < (visible ? bq * d : 0); e += g)
                {
                    int r = e / d, c = e - r * d;
                    float acc = sO[e] * sA[r];
                    for (int j = 0; j < bk; j++) acc += sS[r * ss + j] * sV[j * d + c];
                    sO[e] = acc;
                }
                Group.Barrier();
            }

            if (p.Splits > 1)
            {
                // Unnormalised partial rows for AttentionCombineKernel (every row, so the combine reads no stale data).
                long at = w * bq * (d + 2);
                for (int r = tid; r < bq; r += g)
                {
                    totals[at + r * (d + 2)] = sM[r];
                    totals[at + r * (d + 2) + 1] = sL[r];
                }
                for (int e = tid; e < bq * d; e += g)
                {
                    int r = e / d;
                    totals[at + r * (d + 2) + 2 + (e - r * d)] = sO[e];
                }
            }
            else
            {
                for (int e = tid; e < bq * d; e += g)
                {
                    int r = e / d, c = e - r * d, t = q0 + r;
                    if (t >= p.Tq) continue;
                    float l = sL[r];
                    dest[p.OffD + b * p.DsB + t * p.DsT + h * p.DsH + c] = default(TElem).Store(l > 0f ? sO[e] / l : 0f);
                }
            }

            if (p.HasTotals != 0 || p.HasRows != 0)
            {
                // Second pass: recompute the logits with the final m and l; RowProbabilities needs every slot written,
                // so block-masked tiles are skipped only without it.
                int xStart = p.HasRows != 0 ? 0 : jStart, xEnd = p.HasRows != 0 ? p.Nk : jEnd;
                for (int j0 = xStart; j0 < xEnd; j0 += bk)
                {
                    bool visible = p.HasRows != 0 || TileVisible(blocks, p, b, h, q0, j0);
                    if (visible) StageKeys<T, TElem>(k, v, sel, sK, sV, p, b, kvh, j0, false);
                    Group.Barrier();
                    if (visible) Scores(pad, bias, pos, sel, blocks, sQ, sK, sS, p, b, h, kvh, q0, j0, len, off);
                    Group.Barrier();
                    for (int e = tid; e < (visible ? bq * bk : 0); e += g)
                    {
                        int r = e / bk, c = e - r * bk, t = q0 + r, j = j0 + c;
                        if (t >= p.Tq || j >= p.Nk) continue;
                        float s = sS[r * ss + c], l = sL[r];
                        float pr = s == float.NegativeInfinity || !(l > 0f) ? 0f : XMath.Exp(s - sM[r]) / l;
                        long bhRow = (long)b * p.H + h;
                        if (p.HasTotals != 0 && pr != 0f) Atomic.Add(ref totals[p.OffTotals + bhRow * p.Nk + j], pr);
                        if (p.HasRows != 0)
                        {
                            for (int ri = 0; ri < p.Rows; ri++)
                                if (rows[p.OffRows + ri] == t) probs[p.OffProbs + (bhRow * p.Rows + ri) * p.Nk + j] = pr;
                        }
                    }
                    Group.Barrier();
                }
            }
            Group.Barrier(); // sQ, sO and the statistics are reused by the next work item
        }
    }

    /// <summary>
    /// tanh from the exp: (1 - e^-2|x|) / (1 + e^-2|x|) with the sign of x. ex2.approx keeps the absolute error near
    /// 1e-7, where PTX's tanh.approx.f32 (what XMath.Tanh lowers to) has a relative error of about 2^-11.
    /// </summary>
    private static float Tanh(float x)
    {
        float e = XMath.Exp(-2f * XMath.Abs(x));
        float t = (1f - e) / (1f + e);
        return x < 0f ? -t : t;
    }

    /// <summary>BlockMask entry of (query t, key position pos); true without a block mask.</summary>
    private static bool BlockKept(ArrayView<byte> blocks, AttentionParams p, int b, int h, int t, int pos)
    {
        if (p.HasBlock == 0) return true;
        int mb = p.BlockBatch == 1 ? 0 : b, mh = p.BlockHeads == 1 ? 0 : h;
        long at = (((long)mb * p.BlockHeads + mh) * p.QueryBlocks + t / p.BlockSize) * p.KeyBlocks + pos / p.BlockSize;
        return blocks[p.OffBlock + at] != 0;
    }

    /// <summary>
    /// False when every BlockMask block touched by the query rows q0 .. q0 + Bq - 1 and the key slots j0 .. j0 + Bk - 1
    /// is 0, so the tile contributes nothing. Every thread computes the same answer (uniform control flow). With
    /// SelectedKeys the slots map to arbitrary positions, so the tile always runs (pairs are still masked in Scores).
    /// </summary>
    private static bool TileVisible(ArrayView<byte> blocks, AttentionParams p, int b, int h, int q0, int j0)
    {
        if (p.HasBlock == 0 || p.HasSel != 0) return true;
        int bs = p.BlockSize;
        int qLast = XMath.Min(q0 + p.Bq, p.Tq) - 1, jLast = XMath.Min(j0 + p.Bk, p.Nk) - 1;
        for (int qi = q0 / bs; qi <= qLast / bs; qi++)
            for (int ki = j0 / bs; ki <= jLast / bs; ki++)
                if (BlockKept(blocks, p, b, h, qi * bs, ki * bs)) return true;
        return false;
    }

    /// <summary>
    /// Stages K (rows of D + 1 floats) and V (when <paramref name="withValues"/>) rows of slots j0 .. j0 + Bk - 1;
    /// zeros past Nk.
    /// </summary>
    private static void StageKeys<T, TElem>(ArrayView<T> k, ArrayView<T> v, ArrayView<int> sel, ArrayView<float> sK,
        ArrayView<float> sV, AttentionParams p, int b, int kvh, int j0, bool withValues)
        where T : unmanaged
        where TElem : struct, IAttentionElement<T>
    {
        int d = p.D;
        for (int e = Group.IdxX; e < p.Bk * d; e += Group.DimX)
        {
            int c = e / d, x = e - c * d, j = j0 + c;
            if (j < p.Nk)
            {
                int at = p.HasSel != 0 ? sel[p.OffSel + ((long)b * p.Hkv + kvh) * p.Nk + j] : j;
                sK[c * (d + 1) + x] = default(TElem).Load(k[p.OffK + b * p.KsB + at * p.KsT + kvh * p.KsH + x]);
                if (withValues) sV[e] = default(TElem).Load(v[p.OffV + b * p.VsB + at * p.VsT + kvh * p.VsH + x]);
            }
            else
            {
                sK[c * (d + 1) + x] = 0f;
                if (withValues) sV[e] = 0f;
            }
        }
    }

    /// <summary>
    /// Logits of the [Bq, Bk] tile into <paramref name="sS"/> (rows of Bk + 1 floats); dropped or out-of-range entries
    /// are -inf.
    /// </summary>
    private static void Scores(ArrayView<byte> pad, ArrayView<float> bias, ArrayView<float> pos, ArrayView<int> sel,
        ArrayView<byte> blocks, ArrayView<float> sQ, ArrayView<float> sK, ArrayView<float> sS, AttentionParams p,
        int b, int h, int kvh, int q0, int j0, int len, int off)
    {
        int d = p.D, bk = p.Bk;
        for (int e = Group.IdxX; e < p.Bq * bk; e += Group.DimX)
        {
            int r = e / bk, c = e - r * bk, t = q0 + r, j = j0 + c;
            float s = float.NegativeInfinity;
            if (t < p.Tq && j < p.Nk)
            {
                int at = p.HasSel != 0 ? sel[p.OffSel + ((long)b * p.Hkv + kvh) * p.Nk + j] : j;
                bool keep = at < len
                    && (p.HasPad == 0 || pad[p.OffPad + (long)b * p.Tk + at] != 0)
                    && !(p.Left >= 0 && at < t + off - p.Left)
                    && !(p.Right >= 0 && at > t + off + p.Right)
                    && BlockKept(blocks, p, b, h, t, at);
                if (keep)
                {
                    float dot = 0f;
                    for (int x = 0; x < d; x++) dot += sQ[r * d + x] * sK[c * (d + 1) + x];
                    s = p.Scale * dot;
                    if (p.SoftCap > 0f) s = p.SoftCap * Tanh(s / p.SoftCap);
                    if (p.BiasLayout == 2) s += bias[p.OffBias + (long)b * p.Tk + at];
                    else if (p.BiasLayout == 3) s += bias[p.OffBias + ((long)b * p.Hkv + kvh) * p.Tk + at];
                    if (p.HasPos != 0) s += pos[p.OffPos + ((long)h * p.Tq + t) * p.Tk + at];
                }
            }
            sS[r * (bk + 1) + c] = s;
        }
    }
}
