// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The fused attention tile (FlashAttention-2, Dao 2023, Algorithm 1, on a CPU): 2W query rows of one kv head in
// the lanes of two vectors (W = 16 with Vector512, 8 with Vector256: see IAttentionIsa), one pass over the visible
// keys in blocks of KeyBlock, with the running row max m and sum l kept per lane and the output accumulated
// unnormalised as O^T [D, 2W], rescaled by exp(m_old - m_new) per key block and divided by l once at the end.
// Rows are (head-in-group, query) pairs of one kv head, so grouped-query heads share every K/V load (FA3's "pack
// GQA"). Decode (Tq of 1..8) runs AttentionDecodeWork instead, unless it asks for exports or a head dim that is not
// a multiple of 16.
//
// Per key block, without logit transforms (no soft-cap, bias, mask or window edge in the block), the score kernel
// folds its rows into the block's row max while they are in registers, so the pass is scores -> values, the first
// value pass taking the exponentials as it goes (ValuesBlock); with any, one pass applies them and takes the max. The
// query rows are packed into Qt and O^T is written back with 8x8 register transposes (AttentionTranspose), not a
// strided scalar load or store per float.
//
// Score exports (per-key totals, chosen probability rows) need the final m and l of each row, known only after
// the pass. Instead of a second QK^T pass, the tile keeps its P^T blocks (exp(s - m_block) for every visible key
// of its rows: Tk x 2W floats per worker, never Tq x Tk) and the m of each block; at the end
// p = P^T * exp(m_block - m_final) / l, a pass of two multiplies per stored value (about 1% of the tile's FLOPs).
//
// BlockMask: keys are gathered into the blocks; a key that no lane keeps (its mask block is dropped for every
// (head, query block) of the tile) is never gathered, so a dropped block costs a byte read per lane row, not its
// QK^T, exp and PV work; lanes that drop a gathered key get -inf.
//
// Every method on the tile's path is compiled fully optimized at its first call (AggressiveOptimization): tiered
// compilation had run the export path (Export, the key-total sums, the transposes) as unoptimized tier-0 code for its
// first calls, +10% on a short B1 H12 T197 run with exports.
//
// Work items: (batch, kv head, chunk of lane blocks, key split). Lane blocks are handed out heaviest first
// (latest queries, which see the most keys under a causal mask). Key splits (flash-decoding) are used only when
// there are fewer items than cores x 2 and no exports; their partial (O, m, l) are merged by AttentionCombineWork.
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HpcCore.Cpu;

using HpcCore.Kernels;

/// <summary>The fused attention tile kernel as a zero-allocation parallel body, for one ISA.</summary>
internal unsafe struct AttentionTileWork<TV, TIsa> : IParallelBody
    where TV : struct
    where TIsa : struct, IAttentionIsa<TV>
{
    /// <summary>Lanes (query rows) per tile.</summary>
    public static int Lanes => 2 * TIsa.Width;

    private const int MaxLanes = 32;

    public AttentionProblem P;

    /// <summary>Rows per kv head (Group * Tq), lane blocks per kv head, lane-block chunks per kv head, key splits.</summary>
    public int Rows, LaneBlocks, Chunks, Splits;

    /// <summary>Per-chunk key totals [B, Hkv, Chunks, Group, Slots] (KeyTotals itself when Chunks is 1), or null.</summary>
    public float* TotalsSlab;

    /// <summary>
    /// With per-chunk totals: chunks still running per (batch, kv head); the item that finishes the last chunk sums
    /// the chunks into KeyTotals (no second pool pass, which cost most on small, loaded runs).
    /// </summary>
    public int* Pending;

    /// <summary>Split partials: per item O^T [D, 2W], then m [2W], then l [2W]; null without splits.</summary>
    public float* Partials;

    private readonly long KeyRows => P.Exports ? (long)AttentionTile.KeyBlocks(P.Slots) * AttentionTile.KeyBlock : AttentionTile.KeyBlock;

    /// <summary>Floats of per-thread scratch one item needs: Qt, O^T, S^T (or kept P^T), block maxima, slot map.</summary>
    public readonly long ScratchFloats
    {
        get
        {
            int l = Lanes;
            long slotMap = P.Exports && P.BlockMask != null ? KeyRows : 0;
            return 2L * P.D * l + (KeyRows + TIsa.Rows) * l + (AttentionTile.KeyBlocks(P.Slots) + 1) * l + slotMap;
        }
    }

    /// <summary>Floats of one split partial.</summary>
    public readonly long PartialFloats => (long)(P.D + 2) * Lanes;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
        float* partial = Partials == null ? null : Partials + item * PartialFloats;
        for (long i = s; i < e; i++)
        {
            int r0 = (LaneBlocks - 1 - (int)i) * Lanes;
            int next = i + 1 < e ? r0 - Lanes : -1;
            // A last lane block of at most 16 rows (e.g. 197 = 6 x 32 + 5 rows) runs as a 16-lane Vector256 tile:
            // 11 idle lanes instead of 27 (Zen 4 double-pumps Vector512, so 16 lanes of Vector256 cost half of 32
            // lanes of Vector512). Split partials keep the 32-lane layout the combine reads.
            if (TIsa.Width == 16 && Rows - r0 <= 16 && partial == null && Vector256.IsHardwareAccelerated)
                Tile<Vector256<float>, AttentionIsa256>(b, hkv, r0, next, split, slab, scratch, null);
            else
                Tile<TV, TIsa>(b, hkv, r0, next, split, slab, scratch, partial);
        }
        if (Pending != null && Interlocked.Decrement(ref Pending[bh]) == 0) SumChunks(bh);
    }

    /// <summary>
    /// Prefetches the [B, T, H, D] rows of the lane block at <paramref name="r0"/> in <paramref name="x"/> (Q or O), both
    /// during a tile's last key block: its own output rows before the block's scores (they are written when the tile
    /// ends: a store to a line not in cache waits for it) and the next tile's query rows before the block's values.
    /// They are strided rows that no hardware prefetcher sees coming: the query pack and the output store were 2% of a
    /// B1 H12 T1024 tile each. Two bursts of one lane block each, a kernel call apart: the output rows prefetched at the
    /// start of the tile instead, next to the query rows, measured 2-4% slower on two threads (their 256 prefetches
    /// queue behind each other, and a long tile's early prefetch can be evicted by the time of the store).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private readonly void PrefetchRows(int b, int hkv, int r0, float* x, HeadStrides xs)
    {
        if (!Sse.IsSupported) return;
        int lines = (P.D * sizeof(float) + 63) / 64, g = r0 / P.Tq, t = r0 - g * P.Tq;
        for (int i = 0; i < Lanes && r0 + i < Rows; i++, t++)
        {
            if (t == P.Tq) (t, g) = (0, g + 1);
            byte* row = (byte*)(x + b * xs.Batch + t * xs.Token + (hkv * P.Group + g) * xs.Head);
            for (int c = 0; c < lines; c++) Sse.Prefetch0(row + c * 64);
        }
    }

    /// <summary>KeyTotals rows of (batch, kv head) bh = the sum of its chunks' totals.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private readonly void SumChunks(int bh)
    {
        int n = P.Slots;
        for (int g = 0; g < P.Group; g++)
        {
            var dst = new Span<float>(P.KeyTotals + ((long)bh * P.Group + g) * n, n);
            new ReadOnlySpan<float>(TotalsSlab + ((long)bh * Chunks * P.Group + g) * n, n).CopyTo(dst);
            for (int c = 1; c < Chunks; c++)
                TensorPrimitives.Add(dst, new ReadOnlySpan<float>(TotalsSlab + (((long)bh * Chunks + c) * P.Group + g) * n, n), dst);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private readonly void Tile<V, I>(int b, int hkv, int r0, int next, int split, float* slab, float* scratch, float* partial)
        where V : struct
        where I : struct, IAttentionIsa<V>
    {
        const int KeyBlock = AttentionTile.KeyBlock;
        int w = I.Width, L = 2 * w, d = P.D, nl = Math.Min(L, Rows - r0);
        float* qt = scratch, ot = qt + d * L, st = ot + d * L;
        bool exports = P.Exports, blocked = P.BlockMask != null;
        float* blockM = st + (KeyRows + I.Rows) * L;
        int* slotOf = exports && blocked ? (int*)(blockM + (AttentionTile.KeyBlocks(P.Slots) + 1) * L) : null;

        // Lanes: row r0 + i is (head-in-group g, query t); lanes past the last row repeat it (their results are dropped).
        int* laneT = stackalloc int[MaxLanes], laneG = stackalloc int[MaxLanes], lo = stackalloc int[MaxLanes], hi = stackalloc int[MaxLanes];
        float** rowPtr = stackalloc float*[MaxLanes];
        int keyLength = P.KeyLength(b), off = keyLength - P.Tq;
        int minLo = int.MaxValue, maxLo = int.MinValue, minHi = int.MaxValue, maxHi = int.MinValue;
        int g = r0 / P.Tq, t = r0 - g * P.Tq;
        for (int i = 0; i < L; i++)
        {
            // Row r0 + i is (g, t): stepped along instead of a division per lane.
            if (i > 0 && i < nl && ++t == P.Tq) (t, g) = (0, g + 1);
            int h = hkv * P.Group + g;
            laneT[i] = t;
            laneG[i] = g;
            lo[i] = P.Left >= 0 ? t + off - P.Left : int.MinValue;
            hi[i] = P.Right >= 0 ? t + off + P.Right : int.MaxValue;
            minLo = Math.Min(minLo, lo[i]);
            maxLo = Math.Max(maxLo, lo[i]);
            minHi = Math.Min(minHi, hi[i]);
            maxHi = Math.Max(maxHi, hi[i]);
            rowPtr[i] = P.Q + b * P.Qs.Batch + t * P.Qs.Token + h * P.Qs.Head;
        }
        // Scores are kept in the ISA's units (log2 units on Vector512: ExpScore is then 2^x), so every logit term is
        // scaled by unit: the query scale, the soft-cap, the biases.
        float unit = I.ScoreUnit;
        AttentionTranspose.PackQueries(rowPtr, L, d, P.Scale * unit, qt);
        bool selected = P.Selected != null, windowed = P.Left >= 0 || P.Right >= 0;
        var (jStart, jEnd) = P.KeySlots(minLo, maxHi, keyLength, Splits, split);
        var blocks = new AttentionBlockLanes();
        if (blocked) blocks.Init(P, b, hkv, laneT, laneG, L);
        uint allLanes = L == 32 ? uint.MaxValue : (1u << L) - 1;

        var negInf = I.Create(float.NegativeInfinity);
        V m0 = negInf, m1 = negInf, ms0 = default, ms1 = default, l0 = default, l1 = default;
        new Span<float>(ot, d * L).Clear();

        float** kRows = stackalloc float*[KeyBlock];
        float** vRows = stackalloc float*[KeyBlock];
        int* keyPos = stackalloc int[KeyBlock];
        uint* keyLanes = stackalloc uint[KeyBlock];
        float* keyAdd = stackalloc float[KeyBlock];
        long* relBase = stackalloc long[MaxLanes];
        bool hasKeyAdd = P.HasKeyAdd, softCap = P.SoftCap > 0f, rel = P.PositionBias != null;
        bool plainKeys = !blocked && !selected && !hasKeyAdd;
        float* blockMax = stackalloc float[MaxLanes];
        if (rel)
            for (int i = 0; i < L; i++) relBase[i] = ((long)(hkv * P.Group + laneG[i]) * P.Tq + laneT[i]) * P.Tk;
        var cap = I.Create(P.SoftCap * unit);
        var invCap = I.Create(softCap ? 1f / (P.SoftCap * unit) : 0f);
        float* kBase = P.K + b * P.Ks.Batch + hkv * P.Ks.Head, vBase = P.V + b * P.Vs.Batch + hkv * P.Vs.Head;

        // Keys are gathered into blocks of up to KeyBlock; with a block mask the kept keys are compacted, and
        // slotOf maps them back to their slots for the exports.
        int blk = 0, kept = 0;
        for (int jNext = jStart; jNext < jEnd; blk++)
        {
            int nk = 0, first = jNext;
            float* sb = exports ? st + (long)kept * L : st;
            if (plainKeys)
            {
                // Slots are positions and no key adds a term: the block is consecutive rows, addressed by a stride
                // (StridedRows), with no table; positions only where a window or a bias needs them.
                nk = Math.Min(KeyBlock, jEnd - jNext);
                if (windowed || rel)
                    for (int j = 0; j < nk; j++) keyPos[j] = first + j;
                jNext += nk;
            }
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
            bool lastBlock = jNext >= jEnd;
            if (lastBlock) PrefetchRows(b, hkv, r0, P.O, P.Os);
            kept += nk;
            I.Store(negInf, blockMax);
            I.Store(negInf, blockMax + w);
            if (plainKeys) I.Scores(new StridedRows(kBase + first * P.Ks.Token, P.Ks.Token), nk, qt, d, sb, blockMax);
            else I.Scores(new TableRows(kRows), nk, qt, d, sb, blockMax);

            // Logit transforms in flash-attn's order (softcap, then biases, then masks) fused with the block row max;
            // without any, the max the score kernel folded (the key rows past nk repeat the last key) is the block's.
            bool mask = windowed && (selected || keyPos[0] < maxLo || keyPos[nk - 1] > minHi);
            bool transform = softCap || rel || hasKeyAdd || mask || blocked;
            V x0 = transform ? negInf : I.Load(blockMax), x1 = transform ? negInf : I.Load(blockMax + w);
            for (int j = 0; transform && j < nk; j++)
            {
                float* row = sb + j * L;
                var s0 = I.Load(row);
                var s1 = I.Load(row + w);
                if (softCap)
                {
                    s0 = I.SoftCap(s0, cap, invCap);
                    s1 = I.SoftCap(s1, cap, invCap);
                }
                if (rel)
                {
                    I.Store(s0, row);
                    I.Store(s1, row + w);
                    for (int i = 0; i < L; i++) row[i] += P.PositionBias[relBase[i] + keyPos[j]] * unit;
                    s0 = I.Load(row);
                    s1 = I.Load(row + w);
                }
                if (hasKeyAdd)
                {
                    var add = I.Create(keyAdd[j] * unit);
                    s0 = I.Add(s0, add);
                    s1 = I.Add(s1, add);
                }
                if (mask)
                {
                    s0 = I.DropOutside(s0, keyPos[j], lo, hi);
                    s1 = I.DropOutside(s1, keyPos[j], lo + w, hi + w);
                }
                bool someDropped = blocked && keyLanes[j] != allLanes;
                if (someDropped)
                {
                    s0 = I.DropLanes(s0, keyLanes[j], 0);
                    s1 = I.DropLanes(s1, keyLanes[j], w);
                }
                if (softCap || rel || hasKeyAdd || mask || someDropped)
                {
                    I.Store(s0, row);
                    I.Store(s1, row + w);
                }
                x0 = I.Max(x0, s0);
                x1 = I.Max(x1, s1);
            }

            // Online softmax: a lane whose max is still -inf uses 0 as its reference so exp(-inf - 0) = 0, not NaN.
            m0 = I.Max(m0, x0);
            m1 = I.Max(m1, x1);
            var n0 = I.ZeroWhereNegativeInfinity(m0);
            var n1 = I.ZeroWhereNegativeInfinity(m1);
            var alpha0 = I.ExpScore(I.Subtract(ms0, n0));
            var alpha1 = I.ExpScore(I.Subtract(ms1, n1));
            (ms0, ms1) = (n0, n1);
            if (lastBlock && next >= 0) PrefetchRows(b, hkv, next, P.Q, P.Qs);
            var (sum0, sum1) = plainKeys
                ? ValuesOfBlock<V, I, StridedRows>(new StridedRows(vBase + first * P.Vs.Token, P.Vs.Token), nk, d, sb, ot, blockMax, alpha0, alpha1, n0, n1)
                : ValuesOfBlock<V, I, TableRows>(new TableRows(vRows), nk, d, sb, ot, blockMax, alpha0, alpha1, n0, n1);
            l0 = I.FusedMultiplyAdd(l0, alpha0, sum0);
            l1 = I.FusedMultiplyAdd(l1, alpha1, sum1);
            if (exports)
            {
                I.Store(n0, blockM + blk * L);
                I.Store(n1, blockM + blk * L + w);
            }
        }

        if (partial != null)
        {
            Buffer.MemoryCopy(ot, partial, d * L * sizeof(float), d * L * sizeof(float));
            // The combine works in natural-log units.
            var toNatural = I.Create(1f / unit);
            I.Store(I.Multiply(ms0, toNatural), partial + d * L);
            I.Store(I.Multiply(ms1, toNatural), partial + d * L + w);
            I.Store(l0, partial + (d + 1) * L);
            I.Store(l1, partial + (d + 1) * L + w);
            return;
        }
        float* inv = stackalloc float[MaxLanes];
        I.Store(I.ReciprocalOrZero(l0), inv);
        I.Store(I.ReciprocalOrZero(l1), inv + w);
        for (int i = 0; i < nl; i++)
            rowPtr[i] = P.O + b * P.Os.Batch + laneT[i] * P.Os.Token + (hkv * P.Group + laneG[i]) * P.Os.Head;
        AttentionTranspose.StoreOutputs(ot, L, nl, d, inv, rowPtr);
        if (exports)
        {
            for (int i = nl; i < L; i++) inv[i] = 0f;
            Export<V, I>(b, hkv, nl, laneT, laneG, jStart, jEnd, st, blockM, blk, ms0, ms1, inv, slab, slotOf, kept);
        }
    }

    /// <summary>
    /// O^T = alpha * O^T + V^T P^T over one key block, P^T = ExpScore(S^T - n) written over S^T; returns P^T's lane sums.
    /// The exponentials are taken inside the first value pass (ValuesBlock: they overlap its FMAs, 3-4% of a T1024 tile
    /// against a separate pass); head dims under Rows run the separate pass.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (V, V) ValuesOfBlock<V, I, TRows>(TRows rows, int nk, int d, float* sb, float* ot, float* sums, V alpha0, V alpha1, V n0, V n1)
        where V : struct
        where I : struct, IAttentionIsa<V>
        where TRows : struct, IKeyRows
    {
        int w = I.Width, L = 2 * w;
        if (d >= I.Rows)
        {
            I.ValuesBlock(rows, nk, d, sb, ot, alpha0, alpha1, n0, n1, sums);
            return (I.Load(sums), I.Load(sums + w));
        }
        V sum0 = default, sum1 = default;
        for (int j = 0; j < nk; j++)
        {
            float* row = sb + j * L;
            var p0 = I.ExpScore(I.Subtract(I.Load(row), n0));
            var p1 = I.ExpScore(I.Subtract(I.Load(row + w), n1));
            I.Store(p0, row);
            I.Store(p1, row + w);
            sum0 = I.Add(sum0, p0);
            sum1 = I.Add(sum1, p1);
        }
        for (int k = 0; k < d; k++)
            I.ValuesRow(rows, nk, k, sb, ot, alpha0, alpha1);
        return (sum0, sum1);
    }

    /// <summary>Turns the kept P^T blocks into probabilities and adds them to the totals slab and requested rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private readonly void Export<V, I>(int b, int hkv, int nl, int* laneT, int* laneG, int jStart, int jEnd, float* st,
        float* blockM, int blocks, V ms0, V ms1, float* inv, float* slab, int* slotOf, int kept)
        where V : struct
        where I : struct, IAttentionIsa<V>
    {
        const int KeyBlock = AttentionTile.KeyBlock;
        int w = I.Width, L = 2 * w;
        // Factor of block k: exp(m_k - m_final) / l (0 for dropped lanes and empty rows).
        var inv0 = I.Load(inv);
        var inv1 = I.Load(inv + w);
        for (int k = 0; k < blocks; k++)
        {
            float* f = blockM + k * L;
            I.Store(I.Multiply(I.ExpScore(I.Subtract(I.Load(f), ms0)), inv0), f);
            I.Store(I.Multiply(I.ExpScore(I.Subtract(I.Load(f + w), ms1)), inv1), f + w);
        }
        if (slotOf != null)
        {
            ExportCompacted(L, b, hkv, nl, laneT, laneG, st, blockM, slab, slotOf, kept);
            return;
        }
        if (slab != null)
        {
            if (laneG[0] == laneG[nl - 1])
            {
                // W keys at a time (KeyBlock is a multiple of W, so they share one block factor).
                float* row = slab + (long)laneG[0] * P.Slots;
                int j = jStart;
                for (; j + w <= jEnd; j += w)
                {
                    float* f = blockM + (j - jStart) / KeyBlock * L, pt = st + (long)(j - jStart) * L;
                    I.AddKeyTotals(row + j, pt, I.Load(f), I.Load(f + w));
                }
                for (; j < jEnd; j++)
                {
                    float* f = blockM + (j - jStart) / KeyBlock * L, pt = st + (long)(j - jStart) * L;
                    row[j] += I.Dot(pt, I.Load(f), I.Load(f + w));
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private readonly void ExportCompacted(int L, int b, int hkv, int nl, int* laneT, int* laneG, float* st, float* blockM, float* slab, int* slotOf, int kept)
    {
        const int KeyBlock = AttentionTile.KeyBlock;
        if (slab != null)
        {
            for (int c = 0; c < kept; c++)
            {
                float* f = blockM + c / KeyBlock * L, pt = st + (long)c * L;
                for (int i = 0; i < nl; i++) slab[(long)laneG[i] * P.Slots + slotOf[c]] += pt[i] * f[i];
            }
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
}

/// <summary>ISA-independent constants of the fused attention tile.</summary>
internal static class AttentionTile
{
    /// <summary>Keys per block: S^T and P^T of a block (16 KB with 32 lanes) stay in L1 next to the O^T accumulator.</summary>
    public const int KeyBlock = 128;

    public static int KeyBlocks(int keys) => (keys + KeyBlock - 1) / KeyBlock;
}
