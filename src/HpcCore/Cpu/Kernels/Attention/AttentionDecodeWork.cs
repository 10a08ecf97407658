// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The decode kernel (Tq of 1..8 over a long KV cache): memory-bound, so it is vectorised over the head dim instead
// of over queries (the tile kernel put the 4 query heads of a kv group in 4 of its 32 lanes). A kv head's rows are
// the Group * Tq (head-in-group, query) pairs that read it, so every K and V row is read from memory once per call.
// One item is (batch, chunk of kv heads, key split) and walks its keys block-major, kv-head-minor: the rows of all
// heads of a block are adjacent in a [B, T, Hkv, D] cache, so the item streams memory in order (one item per kv
// head read rows 4 KB apart and reached 0.37 of copy bandwidth instead of 0.6).
// Per (block of KeyBlock keys, kv head): scores s[r, j] = q_r . k_j in register blocks reduced together (Vector512:
// 4 rows x 4 keys, AttentionMath.Sum16; Vector256: 4 x 2, Sum8), the logit transforms of AttentionProblem.Logit
// vectorised over the keys (BlockMask: keys no row keeps are not gathered, partly kept ones are masked per row), an
// online-softmax update per row, then O[r, :] = alpha_r * O[r, :] + sum_j p[r, j] V[j, :] in 4-row x 64-dim
// (Vector256: 16-dim) register blocks; the next (block, head)'s rows are prefetched meanwhile. The micro-kernels
// live in AttentionIsa512.Decode.cs and AttentionIsa256.Decode.cs.
// Keys are split across the worker pool (flash-decoding) when there are too few batches to keep the cores busy;
// each split leaves an unnormalised (O, m, l) partial per (batch, kv head) and AttentionDecodeCombineWork merges
// them by log-sum-exp (splits whose keys are all masked have l = 0 and are skipped).
// Score exports (KeyTotals, RowProbabilities; H2O scores its cache with them during decode) need each row's final
// softmax normaliser, known only after every split: the kernel keeps the final logits of its rows (Group * Tq x
// Slots floats per kv head, -inf where masked: a few percent of the K/V bytes it reads), the final (m, l) of each
// row come from the item (no split) or the combine, and AttentionDecodeExportWork turns the logits into
// probabilities in one pass.
// F16/BF16 caches (P.KHalf, P.VHalf) are widened per unit into a per-thread F32 staging block (the unit's K and V
// rows, 2 x KeyBlock x D floats) just before its scores, after the unit before it prefetched the half rows, not as
// a whole cache per call: decode reads each K/V row once, so the call reads half the bytes of an F32 cache instead
// of reading them, writing F32 copies and reading those again.
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace HpcCore.Cpu;

/// <summary>Constants and the applicability test of the decode kernel.</summary>
internal static class AttentionDecode
{
    /// <summary>Keys per block (32 and 128 measured slower on B1 H32/Hkv8 Tq1/Tq8 Tk16384 D128).</summary>
    public const int KeyBlock = 64;

    /// <summary>Largest Tq the decode kernel serves.</summary>
    public const int MaxQueries = 8;

    /// <summary>Fewest keys per split worth a partial and a combine.</summary>
    public const int MinKeysPerSplit = 512;

    /// <summary>True when the decode kernel serves this problem (else the tile kernel runs).</summary>
    public static bool Supports(in AttentionProblem p) =>
        p.Tq <= MaxQueries && p.D % 16 == 0 && Vector256.IsHardwareAccelerated;
}

/// <summary>The decode attention kernel (rows vectorised over D) as a zero-allocation parallel body, for one ISA.</summary>
internal unsafe struct AttentionDecodeWork<TV, TIsa> : IParallelBody
    where TV : struct
    where TIsa : struct, IAttentionIsa<TV>
{
    private const int KeyBlock = AttentionDecode.KeyBlock;

    public AttentionProblem P;

    /// <summary>Rows per kv head (Group * Tq) and key splits per (batch, kv head).</summary>
    public int Rows, Splits;

    /// <summary>Split partials [B, Hkv, Splits]: each O [Rows, D], then m [Rows], then l [Rows]; null without splits.</summary>
    public float* Partials;

    /// <summary>Kv heads per head chunk (items are (batch, head chunk, key split)).</summary>
    public int HeadsPerChunk;

    /// <summary>
    /// With exports: final logits [B, Hkv, Rows, Slots] (-inf where masked) and, without splits, the final (m, l) of
    /// each row [B, Hkv, Rows, 2] (the combine writes them with splits); else null.
    /// </summary>
    public float* Logits, Stats;

    /// <summary>Head chunks per batch.</summary>
    public readonly int HeadChunks => (P.KvHeads + HeadsPerChunk - 1) / HeadsPerChunk;

    /// <summary>Floats of one split partial (one kv head).</summary>
    public readonly long PartialFloats => (long)Rows * (P.D + 2);

    /// <summary>Floats of per-thread scratch one item needs: Q, O, m and l per kv head, one block of scores.</summary>
    public readonly long ScratchFloats => HeadsPerChunk * (2L * Rows * P.D + 2L * Rows) + (long)Rows * KeyBlock + StageFloats;

    /// <summary>Floats of the F16/BF16 staging: K and V rows of one unit (0 for an F32 cache).</summary>
    private readonly long StageFloats => P.KHalf != null ? 2L * KeyBlock * P.D : 0;

    /// <summary>Row pointers, positions and additive terms of the keys of one (key block, kv head) unit.</summary>
    private struct Unit
    {
        public float** K, V;
        public int* Pos;
        public float* Add;
        public int* Slot;
        public int Count;

        /// <summary>F16/BF16 caches: where the unit's K rows, then its V rows, are widened to F32 (KeyBlock x D each).</summary>
        public float* Stage;

        /// <summary>True when some row drops some of the unit's keys by the block mask.</summary>
        public bool Partial;
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public readonly void Invoke(int item)
    {
        int split = item % Splits, unit = item / Splits, chunks = HeadChunks;
        int b = unit / chunks, h0 = unit % chunks * HeadsPerChunk, h1 = Math.Min(P.KvHeads, h0 + HeadsPerChunk), nh = h1 - h0;
        int d = P.D, rows = Rows;
        long headFloats = 2L * rows * d + 2L * rows;
        float* scratch = AttentionScratch.Get(ScratchFloats), sc = scratch + nh * headFloats;

        int keyLength = P.KeyLength(b), off = keyLength - P.Tq;
        int* lo = stackalloc int[rows], hi = stackalloc int[rows];
        int minLo = int.MaxValue, maxHi = int.MinValue;
        for (int r = 0; r < rows; r++)
        {
            int t = r % P.Tq;
            lo[r] = P.Left >= 0 ? t + off - P.Left : int.MinValue;
            hi[r] = P.Right >= 0 ? t + off + P.Right : int.MaxValue;
            minLo = Math.Min(minLo, lo[r]);
            maxHi = Math.Max(maxHi, hi[r]);
        }
        for (int hkv = h0; hkv < h1; hkv++)
        {
            float* qs = scratch + (hkv - h0) * headFloats, o = qs + (long)rows * d, mRef = o + (long)rows * d, lSum = mRef + rows;
            for (int r = 0; r < rows; r++)
            {
                int g = r / P.Tq, t = r - g * P.Tq, h = hkv * P.Group + g;
                float* q = P.Q + b * P.Qs.Batch + t * P.Qs.Token + h * P.Qs.Head;
                TensorPrimitives.Multiply(new ReadOnlySpan<float>(q, d), P.Scale, new Span<float>(qs + (long)r * d, d));
                mRef[r] = float.NegativeInfinity;
                lSum[r] = 0f;
            }
            new Span<float>(o, rows * d).Clear();
        }

        bool windowed = P.Left >= 0 || P.Right >= 0;
        var (jStart, jEnd) = P.KeySlots(minLo, maxHi, keyLength, Splits, split);

        // Units run block-major, kv-head-minor, so that a block's keys of all heads (adjacent rows of a
        // [B, T, Hkv, D] cache) are read together; the next unit's rows are prefetched while this one computes.
        float** k0 = stackalloc float*[KeyBlock], v0 = stackalloc float*[KeyBlock], k1 = stackalloc float*[KeyBlock], v1 = stackalloc float*[KeyBlock];
        int* pos0 = stackalloc int[KeyBlock], pos1 = stackalloc int[KeyBlock], slot0 = stackalloc int[KeyBlock], slot1 = stackalloc int[KeyBlock];
        float* add0 = stackalloc float[KeyBlock], add1 = stackalloc float[KeyBlock];
        float* stage = sc + (long)rows * KeyBlock;
        var cur = new Unit { K = k0, V = v0, Pos = pos0, Add = add0, Slot = slot0, Stage = stage };
        var next = new Unit { K = k1, V = v1, Pos = pos1, Add = add1, Slot = slot1, Stage = stage };
        if (Logits != null) ClearLogits(b, h0, h1, split, jStart, jEnd);
        bool softCap = P.SoftCap > 0f, rel = P.PositionBias != null;
        var cap = TIsa.Create(P.SoftCap);
        var invCap = TIsa.Create(softCap ? 1f / P.SoftCap : 0f);
        var negInf = TIsa.Create(float.NegativeInfinity);
        int w = TIsa.Width;

        if (jStart < jEnd) Fill(b, h0, jStart, jEnd, keyLength, ref cur);
        for (int jb = jStart; jb < jEnd; jb += KeyBlock)
        {
            for (int hkv = h0; hkv < h1; hkv++)
            {
                int nk = cur.Count, nv = (nk + w - 1) & ~(w - 1);
                next.Count = 0;
                if (hkv + 1 < h1) Fill(b, hkv + 1, jb, jEnd, keyLength, ref next);
                else if (jb + KeyBlock < jEnd) Fill(b, h0, jb + KeyBlock, jEnd, keyLength, ref next);
                if (nk == 0)
                {
                    // Every key of the unit lies in dropped mask blocks: nothing to compute.
                    (cur, next) = (next, cur);
                    continue;
                }
                for (int j = nk; j < nv; j++)
                {
                    cur.Pos[j] = cur.Pos[nk - 1];
                    cur.Add[j] = float.NegativeInfinity;
                }
                float* qs = scratch + (hkv - h0) * headFloats, o = qs + (long)rows * d, mRef = o + (long)rows * d, lSum = mRef + rows;
                if (P.KHalf != null) Widen(ref cur);
                TIsa.DecodeScores(cur.K, nk, next.K, next.V, next.Count, qs, rows, d, sc);

                for (int r = 0; r < rows; r++)
                {
                    float* s = sc + r * KeyBlock;
                    int g = r / P.Tq, t = r - g * P.Tq;
                    long relBase = rel ? ((long)(hkv * P.Group + g) * P.Tq + t) * P.Tk : 0;
                    byte* blocks = cur.Partial ? P.BlockRow(b, hkv * P.Group + g, t) : null;
                    var bmax = negInf;
                    for (int j = 0; j < nv; j += w)
                    {
                        var x = TIsa.Load(s + j);
                        if (softCap) x = TIsa.SoftCap(x, cap, invCap);
                        if (rel)
                        {
                            TIsa.Store(x, s + j);
                            for (int i = 0; i < w && j + i < nk; i++) s[j + i] += P.PositionBias[relBase + cur.Pos[j + i]];
                            x = TIsa.Load(s + j);
                        }
                        x = TIsa.Add(x, TIsa.Load(cur.Add + j));
                        if (blocks != null)
                        {
                            TIsa.Store(x, s + j);
                            for (int i = 0; i < w && j + i < nk; i++)
                                if (blocks[cur.Pos[j + i] / P.BlockSize] == 0) s[j + i] = float.NegativeInfinity;
                            x = TIsa.Load(s + j);
                        }
                        if (windowed) x = TIsa.DropKeysOutside(x, cur.Pos + j, lo[r], hi[r]);
                        TIsa.Store(x, s + j);
                        bmax = TIsa.Max(bmax, x);
                    }
                    if (Logits != null)
                    {
                        float* row = Logits + ((long)(b * P.KvHeads + hkv) * rows + r) * P.Slots;
                        for (int j = 0; j < nk; j++) row[cur.Slot[j]] = s[j];
                    }
                    float m = Math.Max(mRef[r], TIsa.MaxAcross(bmax));
                    if (m == float.NegativeInfinity)
                    {
                        new Span<float>(s, KeyBlock).Clear();
                        continue;
                    }
                    float alpha = MathF.Exp(mRef[r] - m);
                    mRef[r] = m;
                    var mv = TIsa.Create(m);
                    TV sum = default;
                    for (int j = 0; j < nv; j += w)
                    {
                        var p = TIsa.Exp(TIsa.Subtract(TIsa.Load(s + j), mv));
                        TIsa.Store(p, s + j);
                        sum = TIsa.Add(sum, p);
                    }
                    lSum[r] = lSum[r] * alpha + TIsa.Sum(sum);
                    if (alpha != 1f)
                        TensorPrimitives.Multiply(new ReadOnlySpan<float>(o + (long)r * d, d), alpha, new Span<float>(o + (long)r * d, d));
                }

                TIsa.DecodeValues(cur.V, nk, sc, rows, d, o);
                (cur, next) = (next, cur);
            }
        }

        for (int hkv = h0; hkv < h1; hkv++)
        {
            float* o = scratch + (hkv - h0) * headFloats + (long)rows * d, mRef = o + (long)rows * d, lSum = mRef + rows;
            if (Partials != null)
            {
                float* part = Partials + ((long)(b * P.KvHeads + hkv) * Splits + split) * PartialFloats;
                Buffer.MemoryCopy(o, part, (long)rows * d * sizeof(float), (long)rows * d * sizeof(float));
                Buffer.MemoryCopy(mRef, part + (long)rows * d, 2L * rows * sizeof(float), 2L * rows * sizeof(float));
                continue;
            }
            if (Stats != null)
            {
                float* stats = Stats + (long)(b * P.KvHeads + hkv) * rows * 2;
                for (int r = 0; r < rows; r++)
                {
                    stats[2 * r] = mRef[r];
                    stats[2 * r + 1] = lSum[r];
                }
            }
            for (int r = 0; r < rows; r++)
            {
                int g = r / P.Tq, t = r - g * P.Tq, h = hkv * P.Group + g;
                float* dst = P.O + b * P.Os.Batch + t * P.Os.Token + h * P.Os.Head;
                float inv = lSum[r] > 0f ? 1f / lSum[r] : 0f;
                TensorPrimitives.Multiply(new ReadOnlySpan<float>(o + (long)r * d, d), inv, new Span<float>(dst, d));
            }
        }
    }

    /// <summary>
    /// Fills u with the keys of block [jb, min(jb + KeyBlock, jEnd)) of kv head hkv; with a block mask, only the
    /// keys some row keeps (u.Partial when some row drops a kept key).
    /// </summary>
    private readonly void Fill(int b, int hkv, int jb, int jEnd, int keyLength, ref Unit u)
    {
        int end = Math.Min(KeyBlock, jEnd - jb), nk = 0;
        bool hasKeyAdd = P.HasKeyAdd;
        float* kBase = P.K + b * P.Ks.Batch + hkv * P.Ks.Head, vBase = P.V + b * P.Vs.Batch + hkv * P.Vs.Head;
        u.Partial = false;
        int cachedBlock = -1;
        bool any = true, all = true;
        for (int j = 0; j < end; j++)
        {
            int pos = P.Position(b, hkv, jb + j);
            if (P.BlockMask != null)
            {
                if (pos / P.BlockSize != cachedBlock)
                {
                    cachedBlock = pos / P.BlockSize;
                    (any, all) = BlockKeeps(b, hkv, cachedBlock);
                }
                if (!any) continue;
                u.Partial |= !all;
            }
            u.Pos[nk] = pos;
            u.Slot[nk] = jb + j;
            if (P.KHalf != null)
            {
                // The F16/BF16 rows themselves, widened by Stage when the unit's turn comes (meanwhile the unit
                // before it prefetches them).
                u.K[nk] = (float*)(P.KHalf + b * P.Ks.Batch + hkv * P.Ks.Head + pos * P.Ks.Token);
                u.V[nk] = (float*)(P.VHalf + b * P.Vs.Batch + hkv * P.Vs.Head + pos * P.Vs.Token);
            }
            else
            {
                u.K[nk] = kBase + pos * P.Ks.Token;
                u.V[nk] = vBase + pos * P.Vs.Token;
            }
            u.Add[nk] = hasKeyAdd ? P.KeyAdd(b, hkv, pos, keyLength) : 0f;
            nk++;
        }
        // Scores computes keys in fours: the rows past nk repeat the last one (their scores are masked).
        if (nk > 0)
            for (int j = nk; j < ((nk + 3) & ~3); j++) u.K[j] = u.K[nk - 1];
        u.Count = nk;
    }

    /// <summary>Widens the unit's F16/BF16 K and V rows into its staging block and points the unit at them.</summary>
    private readonly void Widen(ref Unit u)
    {
        int d = P.D, nk = u.Count;
        for (int j = 0; j < nk; j++)
        {
            float* k = u.Stage + (long)j * d, v = k + (long)KeyBlock * d;
            AttentionHalf.Widen((ushort*)u.K[j], k, d, P.HalfType);
            AttentionHalf.Widen((ushort*)u.V[j], v, d, P.HalfType);
            u.K[j] = k;
            u.V[j] = v;
        }
        for (int j = nk; j < ((nk + 3) & ~3); j++) u.K[j] = u.K[nk - 1];
    }

    /// <summary>
    /// Sets to -inf the logits this item owns for kv heads [h0, h1): its key range, widened to slot 0 (first split)
    /// and to the last slot (last split), so that the slots no split scans (no row sees them) read -inf too.
    /// </summary>
    private readonly void ClearLogits(int b, int h0, int h1, int split, int jStart, int jEnd)
    {
        int from = split == 0 ? 0 : jStart, to = split == Splits - 1 ? P.Slots : jEnd;
        for (int hkv = h0; hkv < h1; hkv++)
            for (int r = 0; r < Rows; r++)
                new Span<float>(Logits + ((long)(b * P.KvHeads + hkv) * Rows + r) * P.Slots + from, to - from).Fill(float.NegativeInfinity);
    }

    /// <summary>Whether any and whether all rows of kv head hkv keep key block <paramref name="block"/>.</summary>
    private readonly (bool Any, bool All) BlockKeeps(int b, int hkv, int block)
    {
        bool any = false, all = true;
        for (int r = 0; r < Rows; r++)
        {
            int g = r / P.Tq, t = r - g * P.Tq;
            bool keep = P.BlockRow(b, hkv * P.Group + g, t)[block] != 0;
            any |= keep;
            all &= keep;
        }
        return (any, all);
    }
}

/// <summary>Merges the key-split partials of one (batch, kv head) per item and writes the normalised output.</summary>
internal unsafe struct AttentionDecodeCombineWork : IParallelBody
{
    public AttentionProblem P;

    /// <summary>The decode work's rows per kv head and key splits.</summary>
    public int Rows, Splits;

    /// <summary>The decode work's split partials and the floats of one.</summary>
    public float* Partials;
    public long PartialFloats;

    /// <summary>With exports: the final (m, l) of each row [B, Hkv, Rows, 2], written here; else null.</summary>
    public float* Stats;

    /// <inheritdoc/>
    public readonly void Invoke(int bh)
    {
        ref readonly var p = ref P;
        int splits = Splits, d = p.D, rows = Rows;
        int hkv = bh % p.KvHeads, b = bh / p.KvHeads;
        float* first = Partials + (long)bh * splits * PartialFloats;
        for (int r = 0; r < rows; r++)
        {
            float mMax = float.NegativeInfinity;
            for (int s = 0; s < splits; s++)
            {
                float* part = first + s * PartialFloats;
                if (part[(long)rows * d + rows + r] > 0f) mMax = Math.Max(mMax, part[(long)rows * d + r]);
            }
            int g = r / p.Tq, t = r - g * p.Tq, h = hkv * p.Group + g;
            var o = new Span<float>(p.O + b * p.Os.Batch + t * p.Os.Token + h * p.Os.Head, d);
            o.Clear();
            float l = 0f;
            for (int s = 0; s < splits; s++)
            {
                float* part = first + s * PartialFloats;
                float ls = part[(long)rows * d + rows + r];
                if (!(ls > 0f)) continue;
                float w = MathF.Exp(part[(long)rows * d + r] - mMax);
                l += w * ls;
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(part + (long)r * d, d), w, o, o);
            }
            if (l > 0f) TensorPrimitives.Multiply(o, 1f / l, o);
            if (Stats != null)
            {
                Stats[((long)bh * rows + r) * 2] = mMax;
                Stats[((long)bh * rows + r) * 2 + 1] = l;
            }
        }
    }
}
