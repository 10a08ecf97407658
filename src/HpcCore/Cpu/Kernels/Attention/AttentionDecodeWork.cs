// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The decode kernel (Tq of 1..8 over a long KV cache): memory-bound, so it is vectorised over the head dim instead
// of over queries (the tile kernel put the 4 query heads of a kv group in 4 of its 32 lanes). A kv head's rows are
// the Group * Tq (head-in-group, query) pairs that read it, so every K and V row is read from memory once per call.
// One item is (batch, chunk of kv heads, key split) and walks its keys block-major, kv-head-minor: the rows of all
// heads of a block are adjacent in a [B, T, Hkv, D] cache, so the item streams memory in order (one item per kv
// head read rows 4 KB apart and reached 0.37 of copy bandwidth instead of 0.6).
// Per (block of KeyBlock keys, kv head): scores s[r, j] = q_r . k_j in 4-row x 4-key register blocks reduced
// 16 at a time (AttentionMath.Sum16), the logit transforms of AttentionProblem.Logit vectorised over 16 keys, an
// online-softmax update per row, then O[r, :] = alpha_r * O[r, :] + sum_j p[r, j] V[j, :] in 4-row x 64-dim
// register blocks; the next (block, head)'s rows are prefetched meanwhile.
// Keys are split across the worker pool (flash-decoding) when there are too few batches to keep the cores busy;
// each split leaves an unnormalised (O, m, l) partial per (batch, kv head) and AttentionDecodeCombineWork merges
// them by log-sum-exp (splits whose keys are all masked have l = 0 and are skipped).
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HpcCore.Cpu;

/// <summary>The decode attention kernel (rows vectorised over D) as a zero-allocation parallel body.</summary>
internal unsafe struct AttentionDecodeWork : IParallelBody
{
    /// <summary>Keys per block (32 and 128 measured slower on B1 H32/Hkv8 Tq1/Tq8 Tk16384 D128).</summary>
    public const int KeyBlock = 64;

    /// <summary>Largest Tq the decode kernel serves.</summary>
    public const int MaxQueries = 8;

    /// <summary>Fewest keys per split worth a partial and a combine.</summary>
    public const int MinKeysPerSplit = 512;

    public AttentionProblem P;

    /// <summary>Rows per kv head (Group * Tq) and key splits per (batch, kv head).</summary>
    public int Rows, Splits;

    /// <summary>Split partials [B, Hkv, Splits]: each O [Rows, D], then m [Rows], then l [Rows]; null without splits.</summary>
    public float* Partials;

    /// <summary>True when the decode kernel serves this problem (else the tile kernel runs).</summary>
    public static bool Supports(in AttentionProblem p) =>
        p.Tq <= MaxQueries && !p.Exports && p.D % 16 == 0 && Vector512.IsHardwareAccelerated;

    /// <summary>Kv heads per head chunk (items are (batch, head chunk, key split)).</summary>
    public int HeadsPerChunk;

    /// <summary>Head chunks per batch.</summary>
    public readonly int HeadChunks => (P.KvHeads + HeadsPerChunk - 1) / HeadsPerChunk;

    /// <summary>Floats of one split partial (one kv head).</summary>
    public readonly long PartialFloats => (long)Rows * (P.D + 2);

    /// <summary>Floats of per-thread scratch one item needs: Q, O, m and l per kv head, one block of scores.</summary>
    public readonly long ScratchFloats => HeadsPerChunk * (2L * Rows * P.D + 2L * Rows) + (long)Rows * KeyBlock;

    /// <summary>Row pointers, positions and additive terms of the keys of one (key block, kv head) unit.</summary>
    private struct Unit
    {
        public float** K, V;
        public int* Pos;
        public float* Add;
        public int Count;

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
        int* pos0 = stackalloc int[KeyBlock], pos1 = stackalloc int[KeyBlock];
        float* add0 = stackalloc float[KeyBlock], add1 = stackalloc float[KeyBlock];
        var cur = new Unit { K = k0, V = v0, Pos = pos0, Add = add0 };
        var next = new Unit { K = k1, V = v1, Pos = pos1, Add = add1 };
        bool softCap = P.SoftCap > 0f, rel = P.PositionBias != null;
        var cap = Vector512.Create(P.SoftCap);
        var invCap = Vector512.Create(softCap ? 1f / P.SoftCap : 0f);
        var negInf = Vector512.Create(float.NegativeInfinity);

        if (jStart < jEnd) Fill(b, h0, jStart, jEnd, keyLength, ref cur);
        for (int jb = jStart; jb < jEnd; jb += KeyBlock)
        {
            for (int hkv = h0; hkv < h1; hkv++)
            {
                int nk = cur.Count, nv = (nk + 15) & ~15;
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
                Scores(cur.K, nk, next.K, next.V, next.Count, qs, rows, d, sc);

                for (int r = 0; r < rows; r++)
                {
                    float* s = sc + r * KeyBlock;
                    int g = r / P.Tq, t = r - g * P.Tq;
                    long relBase = rel ? ((long)(hkv * P.Group + g) * P.Tq + t) * P.Tk : 0;
                    byte* blocks = cur.Partial ? P.BlockRow(b, hkv * P.Group + g, t) : null;
                    var rlo = Vector512.Create(lo[r]);
                    var rhi = Vector512.Create(hi[r]);
                    var bmax = negInf;
                    for (int j = 0; j < nv; j += 16)
                    {
                        var x = Vector512.Load(s + j);
                        if (softCap) x = AttentionMath.SoftCap(x, cap, invCap);
                        if (rel)
                        {
                            x.Store(s + j);
                            for (int i = 0; i < 16 && j + i < nk; i++) s[j + i] += P.PositionBias[relBase + cur.Pos[j + i]];
                            x = Vector512.Load(s + j);
                        }
                        x += Vector512.Load(cur.Add + j);
                        if (blocks != null)
                        {
                            x.Store(s + j);
                            for (int i = 0; i < 16 && j + i < nk; i++)
                                if (blocks[cur.Pos[j + i] / P.BlockSize] == 0) s[j + i] = float.NegativeInfinity;
                            x = Vector512.Load(s + j);
                        }
                        if (windowed)
                        {
                            var kp = Vector512.Load(cur.Pos + j);
                            x = Vector512.ConditionalSelect((Vector512.GreaterThan(kp, rhi) | Vector512.LessThan(kp, rlo)).AsSingle(), negInf, x);
                        }
                        x.Store(s + j);
                        bmax = Vector512.Max(bmax, x);
                    }
                    float m = Math.Max(mRef[r], MaxAcross(bmax));
                    if (m == float.NegativeInfinity)
                    {
                        new Span<float>(s, KeyBlock).Clear();
                        continue;
                    }
                    float alpha = MathF.Exp(mRef[r] - m);
                    mRef[r] = m;
                    var mv = Vector512.Create(m);
                    var sum = Vector512<float>.Zero;
                    for (int j = 0; j < nv; j += 16)
                    {
                        var p = SimdMath.Exp(Vector512.Load(s + j) - mv);
                        p.Store(s + j);
                        sum += p;
                    }
                    lSum[r] = lSum[r] * alpha + Vector512.Sum(sum);
                    if (alpha != 1f)
                        TensorPrimitives.Multiply(new ReadOnlySpan<float>(o + (long)r * d, d), alpha, new Span<float>(o + (long)r * d, d));
                }

                Values(cur.V, nk, sc, rows, d, o);
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
            for (int r = 0; r < rows; r++)
            {
                int g = r / P.Tq, t = r - g * P.Tq, h = hkv * P.Group + g;
                float* dst = P.O + b * P.Os.Batch + t * P.Os.Token + h * P.Os.Head;
                float w = lSum[r] > 0f ? 1f / lSum[r] : 0f;
                TensorPrimitives.Multiply(new ReadOnlySpan<float>(o + (long)r * d, d), w, new Span<float>(dst, d));
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
            u.K[nk] = kBase + pos * P.Ks.Token;
            u.V[nk] = vBase + pos * P.Vs.Token;
            u.Add[nk] = hasKeyAdd ? P.KeyAdd(b, hkv, pos, keyLength) : 0f;
            nk++;
        }
        // Scores computes keys in fours: the rows past nk repeat the last one (their scores are masked).
        if (nk > 0)
            for (int j = nk; j < ((nk + 3) & ~3); j++) u.K[j] = u.K[nk - 1];
        u.Count = nk;
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MaxAcross(Vector512<float> x)
    {
        var y = Vector256.Max(x.GetLower(), x.GetUpper());
        var z = Vector128.Max(y.GetLower(), y.GetUpper());
        return Math.Max(Math.Max(z.GetElement(0), z.GetElement(1)), Math.Max(z.GetElement(2), z.GetElement(3)));
    }

    /// <summary>
    /// s[r, j] = q_r . k_j for every row and the block's keys (row stride KeyBlock), in 4-row x 4-key register
    /// blocks whose 16 accumulators are reduced together (<see cref="AttentionMath.Sum16"/>), not one by one.
    /// Keys up to the next multiple of 4 past nk are computed too (Fill repeats the last row; the caller masks them).
    /// Meanwhile the np rows of the next unit (pk, pv) are prefetched into L2, four keys per step (into L1, the
    /// next unit's 64 KB evicted this one's V before Values read it: 1.4x slower at two threads).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scores(float** kRows, int nk, float** pk, float** pv, int np, float* qs, int rows, int d, float* sc)
    {
        float* tmp = stackalloc float[16];
        for (int j = 0; j < nk; j += 4)
        {
            float* k0 = kRows[j], k1 = kRows[j + 1], k2 = kRows[j + 2], k3 = kRows[j + 3];
            if (Sse.IsSupported)
            {
                for (int a = j; a < Math.Min(j + 4, np); a++)
                {
                    for (int c = 0; c < d; c += 16)
                    {
                        Sse.Prefetch1(pk[a] + c);
                        Sse.Prefetch1(pv[a] + c);
                    }
                }
            }
            for (int r = 0; r < rows; r += 4)
            {
                // Tail rows repeat the last row: the duplicates compute and store the same values.
                int r1 = Math.Min(r + 1, rows - 1), r2 = Math.Min(r + 2, rows - 1), r3 = Math.Min(r + 3, rows - 1);
                float* q0 = qs + (long)r * d, q1 = qs + (long)r1 * d, q2 = qs + (long)r2 * d, q3 = qs + (long)r3 * d;
                Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
                Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
                Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
                Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
                for (int c = 0; c < d; c += 16)
                {
                    var x0 = Vector512.Load(k0 + c);
                    var x1 = Vector512.Load(k1 + c);
                    var x2 = Vector512.Load(k2 + c);
                    var x3 = Vector512.Load(k3 + c);
                    var y = Vector512.Load(q0 + c);
                    a00 = Vector512.FusedMultiplyAdd(y, x0, a00); a01 = Vector512.FusedMultiplyAdd(y, x1, a01);
                    a02 = Vector512.FusedMultiplyAdd(y, x2, a02); a03 = Vector512.FusedMultiplyAdd(y, x3, a03);
                    y = Vector512.Load(q1 + c);
                    a10 = Vector512.FusedMultiplyAdd(y, x0, a10); a11 = Vector512.FusedMultiplyAdd(y, x1, a11);
                    a12 = Vector512.FusedMultiplyAdd(y, x2, a12); a13 = Vector512.FusedMultiplyAdd(y, x3, a13);
                    y = Vector512.Load(q2 + c);
                    a20 = Vector512.FusedMultiplyAdd(y, x0, a20); a21 = Vector512.FusedMultiplyAdd(y, x1, a21);
                    a22 = Vector512.FusedMultiplyAdd(y, x2, a22); a23 = Vector512.FusedMultiplyAdd(y, x3, a23);
                    y = Vector512.Load(q3 + c);
                    a30 = Vector512.FusedMultiplyAdd(y, x0, a30); a31 = Vector512.FusedMultiplyAdd(y, x1, a31);
                    a32 = Vector512.FusedMultiplyAdd(y, x2, a32); a33 = Vector512.FusedMultiplyAdd(y, x3, a33);
                }
                AttentionMath.Sum16(a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33).Store(tmp);
                float* s0 = sc + r * KeyBlock + j, s1 = sc + r1 * KeyBlock + j, s2 = sc + r2 * KeyBlock + j, s3 = sc + r3 * KeyBlock + j;
                *(Vector128<float>*)s0 = Vector128.Load(tmp);
                *(Vector128<float>*)s1 = Vector128.Load(tmp + 4);
                *(Vector128<float>*)s2 = Vector128.Load(tmp + 8);
                *(Vector128<float>*)s3 = Vector128.Load(tmp + 12);
            }
        }
    }

    /// <summary>O[r, :] += sum_j p[r, j] V[j, :] in 4-row blocks (o already rescaled by alpha).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Values(float** vRows, int nk, float* sc, int rows, int d, float* o)
    {
        for (int r0 = 0; r0 < rows; r0 += 4)
        {
            // Tail rows repeat the last row: the duplicates compute and store the same values.
            int r1 = Math.Min(r0 + 1, rows - 1), r2 = Math.Min(r0 + 2, rows - 1), r3 = Math.Min(r0 + 3, rows - 1);
            float* p0 = sc + r0 * KeyBlock, p1 = sc + r1 * KeyBlock, p2 = sc + r2 * KeyBlock, p3 = sc + r3 * KeyBlock;
            float* o0 = o + (long)r0 * d, o1 = o + (long)r1 * d, o2 = o + (long)r2 * d, o3 = o + (long)r3 * d;
            int c = 0;
            for (; c + 64 <= d; c += 64)
            {
                Vector512<float> a00 = Vector512.Load(o0 + c), a01 = Vector512.Load(o0 + c + 16), a02 = Vector512.Load(o0 + c + 32), a03 = Vector512.Load(o0 + c + 48);
                Vector512<float> a10 = Vector512.Load(o1 + c), a11 = Vector512.Load(o1 + c + 16), a12 = Vector512.Load(o1 + c + 32), a13 = Vector512.Load(o1 + c + 48);
                Vector512<float> a20 = Vector512.Load(o2 + c), a21 = Vector512.Load(o2 + c + 16), a22 = Vector512.Load(o2 + c + 32), a23 = Vector512.Load(o2 + c + 48);
                Vector512<float> a30 = Vector512.Load(o3 + c), a31 = Vector512.Load(o3 + c + 16), a32 = Vector512.Load(o3 + c + 32), a33 = Vector512.Load(o3 + c + 48);
                for (int j = 0; j < nk; j++)
                {
                    float* v = vRows[j] + c;
                    var v0 = Vector512.Load(v);
                    var v1 = Vector512.Load(v + 16);
                    var v2 = Vector512.Load(v + 32);
                    var v3 = Vector512.Load(v + 48);
                    var w = Vector512.Create(p0[j]);
                    a00 = Vector512.FusedMultiplyAdd(w, v0, a00); a01 = Vector512.FusedMultiplyAdd(w, v1, a01);
                    a02 = Vector512.FusedMultiplyAdd(w, v2, a02); a03 = Vector512.FusedMultiplyAdd(w, v3, a03);
                    w = Vector512.Create(p1[j]);
                    a10 = Vector512.FusedMultiplyAdd(w, v0, a10); a11 = Vector512.FusedMultiplyAdd(w, v1, a11);
                    a12 = Vector512.FusedMultiplyAdd(w, v2, a12); a13 = Vector512.FusedMultiplyAdd(w, v3, a13);
                    w = Vector512.Create(p2[j]);
                    a20 = Vector512.FusedMultiplyAdd(w, v0, a20); a21 = Vector512.FusedMultiplyAdd(w, v1, a21);
                    a22 = Vector512.FusedMultiplyAdd(w, v2, a22); a23 = Vector512.FusedMultiplyAdd(w, v3, a23);
                    w = Vector512.Create(p3[j]);
                    a30 = Vector512.FusedMultiplyAdd(w, v0, a30); a31 = Vector512.FusedMultiplyAdd(w, v1, a31);
                    a32 = Vector512.FusedMultiplyAdd(w, v2, a32); a33 = Vector512.FusedMultiplyAdd(w, v3, a33);
                }
                a00.Store(o0 + c); a01.Store(o0 + c + 16); a02.Store(o0 + c + 32); a03.Store(o0 + c + 48);
                a10.Store(o1 + c); a11.Store(o1 + c + 16); a12.Store(o1 + c + 32); a13.Store(o1 + c + 48);
                a20.Store(o2 + c); a21.Store(o2 + c + 16); a22.Store(o2 + c + 32); a23.Store(o2 + c + 48);
                a30.Store(o3 + c); a31.Store(o3 + c + 16); a32.Store(o3 + c + 32); a33.Store(o3 + c + 48);
            }
            for (; c < d; c += 16)
            {
                Vector512<float> a0 = Vector512.Load(o0 + c), a1 = Vector512.Load(o1 + c), a2 = Vector512.Load(o2 + c), a3 = Vector512.Load(o3 + c);
                for (int j = 0; j < nk; j++)
                {
                    var v0 = Vector512.Load(vRows[j] + c);
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Create(p0[j]), v0, a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Create(p1[j]), v0, a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.Create(p2[j]), v0, a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.Create(p3[j]), v0, a3);
                }
                a0.Store(o0 + c); a1.Store(o1 + c); a2.Store(o2 + c); a3.Store(o3 + c);
            }
        }
    }
}

/// <summary>Merges the key-split partials of one (batch, kv head) per item and writes the normalised output.</summary>
internal unsafe struct AttentionDecodeCombineWork : IParallelBody
{
    public AttentionDecodeWork Decode;

    /// <inheritdoc/>
    public readonly void Invoke(int bh)
    {
        ref readonly var p = ref Decode.P;
        int splits = Decode.Splits, d = p.D, rows = Decode.Rows;
        int hkv = bh % p.KvHeads, b = bh / p.KvHeads;
        float* first = Decode.Partials + (long)bh * splits * Decode.PartialFloats;
        for (int r = 0; r < rows; r++)
        {
            float mMax = float.NegativeInfinity;
            for (int s = 0; s < splits; s++)
            {
                float* part = first + s * Decode.PartialFloats;
                if (part[(long)rows * d + rows + r] > 0f) mMax = Math.Max(mMax, part[(long)rows * d + r]);
            }
            int g = r / p.Tq, t = r - g * p.Tq, h = hkv * p.Group + g;
            var o = new Span<float>(p.O + b * p.Os.Batch + t * p.Os.Token + h * p.Os.Head, d);
            o.Clear();
            float l = 0f;
            for (int s = 0; s < splits; s++)
            {
                float* part = first + s * Decode.PartialFloats;
                float ls = part[(long)rows * d + rows + r];
                if (!(ls > 0f)) continue;
                float w = MathF.Exp(part[(long)rows * d + r] - mMax);
                l += w * ls;
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(part + (long)r * d, d), w, o, o);
            }
            if (l > 0f) TensorPrimitives.Multiply(o, 1f / l, o);
        }
    }
}
