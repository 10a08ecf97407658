// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The fused attention tile (FlashAttention-2, Dao 2023, Algorithm 1, on a CPU): 32 query rows of one kv head in
// the lanes of two Vector512, one pass over the visible keys in blocks of KeyBlock, with the running row max m and
// sum l kept per lane and the output accumulated unnormalised as O^T [D, 32], rescaled by exp(m_old - m_new) per
// key block and divided by l once at the end. Rows are (head-in-group, query) pairs of one kv head, so grouped-
// query heads share every K/V load (FA3's "pack GQA"). Decode (Tq of 1..8) runs AttentionDecodeWork instead,
// unless it asks for exports or a head dim that is not a multiple of 16.
//
// Score exports (per-key totals, chosen probability rows) need the final m and l of each row, known only after
// the pass. Instead of a second QK^T pass, the tile keeps its P^T blocks (exp(s - m_block) for every visible key
// of its 32 rows: Tk x 32 floats per worker, never Tq x Tk) and the m of each block; at the end
// p = P^T * exp(m_block - m_final) / l, a pass of two multiplies per stored value (about 1% of the tile's FLOPs).
//
// Work items: (batch, kv head, chunk of lane blocks, key split). Lane blocks are handed out heaviest first
// (latest queries, which see the most keys under a causal mask). Key splits (flash-decoding) are used only when
// there are fewer items than cores x 2 and no exports; their partial (O, m, l) are merged by AttentionCombineWork.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace HpcCore.Cpu;

/// <summary>The fused attention tile kernel as a zero-allocation parallel body.</summary>
internal unsafe struct AttentionTileWork : IParallelBody
{
    /// <summary>Keys per block: S^T and P^T of a block (16 KB) stay in L1 next to the O^T accumulator.</summary>
    public const int KeyBlock = 128;

    private const int L = AttentionMicroKernels.Lanes;

    public AttentionProblem P;

    /// <summary>Rows per kv head (Group * Tq), lane blocks per kv head, lane-block chunks per kv head, key splits.</summary>
    public int Rows, LaneBlocks, Chunks, Splits;

    /// <summary>Per-chunk key totals [B, Hkv, Chunks, Group, Slots] (KeyTotals itself when Chunks is 1), or null.</summary>
    public float* TotalsSlab;

    /// <summary>Split partials: per item O^T [D, 32], then m [32], then l [32]; null without splits.</summary>
    public float* Partials;

    /// <summary>Floats of per-thread scratch one item needs.</summary>
    public readonly long ScratchFloats
    {
        get
        {
            long keyRows = P.Exports ? (long)KeyBlocks(P.Slots) * KeyBlock : KeyBlock;
            long slotMap = P.Exports && P.BlockMask != null ? keyRows : 0;
            return 2L * P.D * L + (keyRows + AttentionMicroKernels.Rows) * L + (KeyBlocks(P.Slots) + 1) * L + slotMap;
        }
    }

    /// <summary>Floats of one split partial.</summary>
    public readonly long PartialFloats => (long)(P.D + 2) * L;

    public static int KeyBlocks(int keys) => (keys + KeyBlock - 1) / KeyBlock;

    /// <inheritdoc/>
    public readonly void Invoke(int item)
    {
        int split = item % Splits, unit = item / Splits;
        int chunk = unit % Chunks, bh = unit / Chunks;
        int hkv = bh % P.KvHeads, b = bh / P.KvHeads;
        float* slab = null;
        if (TotalsSlab != null)
        {
            long n = (long)P.Group * P.Slots;
            slab = TotalsSlab + ((long)bh * Chunks + chunk) * n;
            new Span<float>(slab, (int)n).Clear();
        }
        float* scratch = AttentionScratch.Get(ScratchFloats);
        var (s, e) = CpuKernels.Range(LaneBlocks, Chunks, chunk);
        for (long i = s; i < e; i++)
        {
            int lb = LaneBlocks - 1 - (int)i;
            Tile(b, hkv, lb, split, slab, scratch, Partials == null ? null : Partials + item * PartialFloats);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private readonly void Tile(int b, int hkv, int lb, int split, float* slab, float* scratch, float* partial)
    {
        int d = P.D, r0 = lb * L, nl = Math.Min(L, Rows - r0);
        float* qt = scratch, ot = qt + d * L, st = ot + d * L;
        bool exports = P.Exports;
        float* blockM = st + ((exports ? (long)KeyBlocks(P.Slots) * KeyBlock : KeyBlock) + AttentionMicroKernels.Rows) * L;
        bool blocked = P.BlockMask != null;
        int* slotOf = exports && blocked ? (int*)(blockM + (KeyBlocks(P.Slots) + 1) * L) : null;

        // Lanes: row r0 + i is (head-in-group g, query t); lanes past the last row repeat it (their results are dropped).
        int* laneT = stackalloc int[L], laneG = stackalloc int[L], lo = stackalloc int[L], hi = stackalloc int[L];
        int keyLength = P.KeyLength(b), off = keyLength - P.Tq;
        int minLo = int.MaxValue, maxLo = int.MinValue, minHi = int.MaxValue, maxHi = int.MinValue;
        for (int i = 0; i < L; i++)
        {
            int r = r0 + Math.Min(i, nl - 1), g = r / P.Tq, t = r - g * P.Tq, h = hkv * P.Group + g;
            laneT[i] = t;
            laneG[i] = g;
            lo[i] = P.Left >= 0 ? t + off - P.Left : int.MinValue;
            hi[i] = P.Right >= 0 ? t + off + P.Right : int.MaxValue;
            minLo = Math.Min(minLo, lo[i]);
            maxLo = Math.Max(maxLo, lo[i]);
            minHi = Math.Min(minHi, hi[i]);
            maxHi = Math.Max(maxHi, hi[i]);
            float* q = P.Q + b * P.Qs.Batch + t * P.Qs.Token + h * P.Qs.Head;
            for (int k = 0; k < d; k++) qt[k * L + i] = q[k] * P.Scale;
        }
        bool selected = P.Selected != null, windowed = P.Left >= 0 || P.Right >= 0;
        var (jStart, jEnd) = P.KeySlots(minLo, maxHi, keyLength, Splits, split);
        var blocks = new AttentionBlockLanes();
        if (blocked) blocks.Init(P, b, hkv, laneT, laneG, L);
        var laneBit0 = Vector512.Create(1u, 1u << 1, 1u << 2, 1u << 3, 1u << 4, 1u << 5, 1u << 6, 1u << 7,
            1u << 8, 1u << 9, 1u << 10, 1u << 11, 1u << 12, 1u << 13, 1u << 14, 1u << 15);
        var laneBit1 = Vector512.ShiftLeft(laneBit0, 16);

        var lo0 = Vector512.Load(lo); var lo1 = Vector512.Load(lo + 16);
        var hi0 = Vector512.Load(hi); var hi1 = Vector512.Load(hi + 16);
        var negInf = Vector512.Create(float.NegativeInfinity);
        Vector512<float> m0 = negInf, m1 = negInf, ms0 = default, ms1 = default, l0 = default, l1 = default;
        new Span<float>(ot, d * L).Clear();

        float** kRows = stackalloc float*[KeyBlock + AttentionMicroKernels.Rows];
        float** vRows = stackalloc float*[KeyBlock];
        int* keyPos = stackalloc int[KeyBlock];
        uint* keyLanes = stackalloc uint[KeyBlock];
        float* keyAdd = stackalloc float[KeyBlock];
        long* relBase = stackalloc long[L];
        bool hasKeyAdd = P.HasKeyAdd, softCap = P.SoftCap > 0f, rel = P.PositionBias != null;
        if (rel)
            for (int i = 0; i < L; i++) relBase[i] = ((long)(hkv * P.Group + laneG[i]) * P.Tq + laneT[i]) * P.Tk;
        var cap = Vector512.Create(P.SoftCap);
        var invCap = Vector512.Create(softCap ? 1f / P.SoftCap : 0f);
        float* kBase = P.K + b * P.Ks.Batch + hkv * P.Ks.Head, vBase = P.V + b * P.Vs.Batch + hkv * P.Vs.Head;

        // Keys are gathered into blocks of up to KeyBlock; with a block mask, keys no lane keeps are skipped
        // (a dropped mask block costs one byte read per lane row, not its QK^T and PV work), so the kept keys are
        // compacted and slotOf maps them back to their slots for the exports.
        int blk = 0, kept = 0;
        for (int jNext = jStart; jNext < jEnd; blk++)
        {
            int nk = 0;
            float* sb = exports ? st + (long)kept * L : st;
            while (nk < KeyBlock && jNext < jEnd)
            {
                int j = jNext++, pos = P.Position(b, hkv, j);
                if (blocked)
                {
                    uint lanes = blocks.Lanes(pos);
                    if (lanes == 0)
                    {
                        // Without a selection the positions are the slots: jump to the next mask block.
                        if (!selected) jNext = Math.Min(jEnd, (pos / P.BlockSize + 1) * P.BlockSize);
                        continue;
                    }
                    keyLanes[nk] = lanes;
                    if (slotOf != null) slotOf[kept + nk] = j;
                }
                keyPos[nk] = pos;
                kRows[nk] = kBase + pos * P.Ks.Token;
                vRows[nk] = vBase + pos * P.Vs.Token;
                if (hasKeyAdd) keyAdd[nk] = P.KeyAdd(b, hkv, pos, keyLength);
                nk++;
            }
            if (nk == 0) break;
            kept += nk;
            for (int j = nk; j < nk + AttentionMicroKernels.Rows; j++) kRows[j] = kRows[nk - 1];
            for (int j = 0; j < nk; j += AttentionMicroKernels.Rows)
                AttentionMicroKernels.Scores(kRows + j, qt, d, sb + j * L);

            // Logit transforms in flash-attn's order (softcap, then biases, then masks) fused with the block row max.
            bool mask = windowed && (selected || keyPos[0] < maxLo || keyPos[nk - 1] > minHi);
            Vector512<float> x0 = negInf, x1 = negInf;
            for (int j = 0; j < nk; j++)
            {
                float* row = sb + j * L;
                var s0 = Vector512.Load(row);
                var s1 = Vector512.Load(row + 16);
                if (softCap)
                {
                    s0 = AttentionMath.SoftCap(s0, cap, invCap);
                    s1 = AttentionMath.SoftCap(s1, cap, invCap);
                }
                if (rel)
                {
                    s0.Store(row);
                    s1.Store(row + 16);
                    for (int i = 0; i < L; i++) row[i] += P.PositionBias[relBase[i] + keyPos[j]];
                    s0 = Vector512.Load(row);
                    s1 = Vector512.Load(row + 16);
                }
                if (hasKeyAdd)
                {
                    var add = Vector512.Create(keyAdd[j]);
                    s0 += add;
                    s1 += add;
                }
                if (mask)
                {
                    var kp = Vector512.Create(keyPos[j]);
                    s0 = Vector512.ConditionalSelect((Vector512.GreaterThan(kp, hi0) | Vector512.LessThan(kp, lo0)).AsSingle(), negInf, s0);
                    s1 = Vector512.ConditionalSelect((Vector512.GreaterThan(kp, hi1) | Vector512.LessThan(kp, lo1)).AsSingle(), negInf, s1);
                }
                bool someDropped = blocked && keyLanes[j] != uint.MaxValue;
                if (someDropped)
                {
                    var bits = Vector512.Create(keyLanes[j]);
                    s0 = Vector512.ConditionalSelect(Vector512.Equals(bits & laneBit0, Vector512<uint>.Zero).AsSingle(), negInf, s0);
                    s1 = Vector512.ConditionalSelect(Vector512.Equals(bits & laneBit1, Vector512<uint>.Zero).AsSingle(), negInf, s1);
                }
                if (softCap || rel || hasKeyAdd || mask || someDropped)
                {
                    s0.Store(row);
                    s1.Store(row + 16);
                }
                x0 = Vector512.Max(x0, s0);
                x1 = Vector512.Max(x1, s1);
            }

            // Online softmax: a lane whose max is still -inf uses 0 as its reference so exp(-inf - 0) = 0, not NaN.
            m0 = Vector512.Max(m0, x0);
            m1 = Vector512.Max(m1, x1);
            var n0 = Vector512.ConditionalSelect(Vector512.Equals(m0, negInf), default, m0);
            var n1 = Vector512.ConditionalSelect(Vector512.Equals(m1, negInf), default, m1);
            var alpha0 = SimdMath.Exp(ms0 - n0);
            var alpha1 = SimdMath.Exp(ms1 - n1);
            (ms0, ms1) = (n0, n1);
            Vector512<float> sum0 = default, sum1 = default;
            for (int j = 0; j < nk; j++)
            {
                float* row = sb + j * L;
                var p0 = SimdMath.Exp(Vector512.Load(row) - n0);
                var p1 = SimdMath.Exp(Vector512.Load(row + 16) - n1);
                p0.Store(row);
                p1.Store(row + 16);
                sum0 += p0;
                sum1 += p1;
            }
            l0 = Vector512.FusedMultiplyAdd(l0, alpha0, sum0);
            l1 = Vector512.FusedMultiplyAdd(l1, alpha1, sum1);
            if (exports)
            {
                n0.Store(blockM + blk * L);
                n1.Store(blockM + blk * L + 16);
            }
            int d8 = d & ~(AttentionMicroKernels.Rows - 1);
            for (int k = 0; k < d8; k += AttentionMicroKernels.Rows)
                AttentionMicroKernels.Values(vRows, nk, k, sb, ot, alpha0, alpha1);
            for (int k = d8; k < d; k++)
                AttentionMicroKernels.ValuesRow(vRows, nk, k, sb, ot, alpha0, alpha1);
        }

        if (partial != null)
        {
            Buffer.MemoryCopy(ot, partial, d * L * sizeof(float), d * L * sizeof(float));
            ms0.Store(partial + d * L);
            ms1.Store(partial + d * L + 16);
            l0.Store(partial + (d + 1) * L);
            l1.Store(partial + (d + 1) * L + 16);
            return;
        }
        float* inv = stackalloc float[L];
        var zero = Vector512<float>.Zero;
        Vector512.ConditionalSelect(Vector512.GreaterThan(l0, zero), Vector512<float>.One / l0, zero).Store(inv);
        Vector512.ConditionalSelect(Vector512.GreaterThan(l1, zero), Vector512<float>.One / l1, zero).Store(inv + 16);
        for (int i = 0; i < nl; i++)
        {
            int h = hkv * P.Group + laneG[i];
            float* o = P.O + b * P.Os.Batch + laneT[i] * P.Os.Token + h * P.Os.Head;
            float w = inv[i];
            for (int k = 0; k < d; k++) o[k] = ot[k * L + i] * w;
        }
        if (exports)
        {
            for (int i = nl; i < L; i++) inv[i] = 0f;
            Export(b, hkv, nl, laneT, laneG, jStart, jEnd, st, blockM, blk, ms0, ms1, inv, slab, slotOf, kept);
        }
    }

    /// <summary>Turns the kept P^T blocks into probabilities and adds them to the totals slab and requested rows.</summary>
    private readonly void Export(int b, int hkv, int nl, int* laneT, int* laneG, int jStart, int jEnd, float* st,
        float* blockM, int blocks, Vector512<float> ms0, Vector512<float> ms1, float* inv, float* slab, int* slotOf, int kept)
    {
        // Factor of block k: exp(m_k - m_final) / l (0 for dropped lanes and empty rows).
        var inv0 = Vector512.Load(inv);
        var inv1 = Vector512.Load(inv + 16);
        for (int k = 0; k < blocks; k++)
        {
            float* f = blockM + k * L;
            (SimdMath.Exp(Vector512.Load(f) - ms0) * inv0).Store(f);
            (SimdMath.Exp(Vector512.Load(f + 16) - ms1) * inv1).Store(f + 16);
        }
        if (slotOf != null)
        {
            ExportCompacted(b, hkv, nl, laneT, laneG, st, blockM, slab, slotOf, kept);
            return;
        }
        if (slab != null)
        {
            if (laneG[0] == laneG[nl - 1])
            {
                // 16 keys at a time (KeyBlock is a multiple of 16, so they share one block factor): 16 lane-wise
                // products reduced together by a transposed reduction instead of 16 horizontal sums.
                float* row = slab + (long)laneG[0] * P.Slots;
                int j = jStart;
                for (; j + 16 <= jEnd; j += 16)
                {
                    float* f = blockM + (j - jStart) / KeyBlock * L, pt = st + (long)(j - jStart) * L;
                    var f0 = Vector512.Load(f);
                    var f1 = Vector512.Load(f + 16);
                    var sum = AttentionMath.Sum16(
                        Weighted(pt, f0, f1, 0), Weighted(pt, f0, f1, 1), Weighted(pt, f0, f1, 2), Weighted(pt, f0, f1, 3),
                        Weighted(pt, f0, f1, 4), Weighted(pt, f0, f1, 5), Weighted(pt, f0, f1, 6), Weighted(pt, f0, f1, 7),
                        Weighted(pt, f0, f1, 8), Weighted(pt, f0, f1, 9), Weighted(pt, f0, f1, 10), Weighted(pt, f0, f1, 11),
                        Weighted(pt, f0, f1, 12), Weighted(pt, f0, f1, 13), Weighted(pt, f0, f1, 14), Weighted(pt, f0, f1, 15));
                    (Vector512.Load(row + j) + sum).Store(row + j);
                }
                for (; j < jEnd; j++)
                {
                    float* f = blockM + (j - jStart) / KeyBlock * L, pt = st + (long)(j - jStart) * L;
                    row[j] += Vector512.Sum(Vector512.Load(pt) * Vector512.Load(f) + Vector512.Load(pt + 16) * Vector512.Load(f + 16));
                }
            }
            else
            {
                for (int j = jStart; j < jEnd; j++)
                {
                    float* f = blockM + (j - jStart) / KeyBlock * L, pt = st + (long)(j - jStart) * L;
                    for (int i = 0; i < nl; i++) slab[(long)laneG[i] * P.Slots + j] += pt[i] * f[i];
                }
            }
        }
        for (int ri = 0; ri < P.RowCount; ri++)
        {
            for (int i = 0; i < nl; i++)
            {
                if (P.RowIndices[ri] != laneT[i]) continue;
                int h = hkv * P.Group + laneG[i];
                float* dst = P.RowProbabilities + (((long)b * P.Heads + h) * P.RowCount + ri) * P.Slots;
                new Span<float>(dst, jStart).Clear();
                new Span<float>(dst + jEnd, P.Slots - jEnd).Clear();
                for (int j = jStart; j < jEnd; j++)
                    dst[j] = st[(long)(j - jStart) * L + i] * blockM[(j - jStart) / KeyBlock * L + i];
            }
        }
    }

    /// <summary>Export of a block-masked tile: only the kept keys (compacted, slot slotOf[c]) have probabilities.</summary>
    private readonly void ExportCompacted(int b, int hkv, int nl, int* laneT, int* laneG, float* st, float* blockM, float* slab, int* slotOf, int kept)
    {
        for (int c = 0; c < kept; c++)
        {
            float* f = blockM + c / KeyBlock * L, pt = st + (long)c * L;
            if (slab != null)
                for (int i = 0; i < nl; i++) slab[(long)laneG[i] * P.Slots + slotOf[c]] += pt[i] * f[i];
        }
        for (int ri = 0; ri < P.RowCount; ri++)
        {
            for (int i = 0; i < nl; i++)
            {
                if (P.RowIndices[ri] != laneT[i]) continue;
                int h = hkv * P.Group + laneG[i];
                float* dst = P.RowProbabilities + (((long)b * P.Heads + h) * P.RowCount + ri) * P.Slots;
                new Span<float>(dst, P.Slots).Clear();
                for (int c = 0; c < kept; c++) dst[slotOf[c]] = st[(long)c * L + i] * blockM[c / KeyBlock * L + i];
            }
        }
    }

    /// <summary>The 32 probabilities of key k of a 16-key group folded into one vector (pairs of lanes summed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Weighted(float* pt, Vector512<float> f0, Vector512<float> f1, int k) =>
        Vector512.FusedMultiplyAdd(Vector512.Load(pt + k * L + 16), f1, Vector512.Load(pt + k * L) * f0);
}
