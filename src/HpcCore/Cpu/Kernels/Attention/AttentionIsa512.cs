// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The Vector512 instance of the fused attention tile: 32 queries = two Vector512 per tile row. Scores are kept
// transposed, S^T [keys, 32 queries], so every softmax step (row max, rescale, sum) is a vertical vector op with no
// horizontal reduction, and both products have the 8x32 shape of the GEMM micro-kernel (GemmMicroKernel512:
// 8 broadcasts + 2 loads per 16 FMAs):
//   S^T[j, :]  = sum_d K[j, d] * Qt[d, :]    (8 keys x 32 queries per micro-kernel, Qt packed [D, 32], pre-scaled)
//   O^T[d, :]  = alpha * O^T[d, :] + sum_j V[j, d] * P^T[j, :]   (8 head dims x 32 queries per call)
// K and V rows are read in place through IKeyRows (a first row and a stride, or a pointer table for gathered keys),
// so strided views and selected-key lists cost no copy.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HpcCore.Cpu;

/// <summary>Vector512 lanes and 8x32 micro-kernels of the fused attention tile.</summary>
internal unsafe partial struct AttentionIsa512 : IAttentionIsa<Vector512<float>>
{
    private const int L = 32;

    public static int Width => 16;

    public static int Rows => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* p) => Vector512.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> x, float* p) => x.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Create(float x) => Vector512.Create(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FusedMultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Avx512F.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x) => AttentionMath.ExpNonPositive(x);

    public static float ScoreUnit => 1.44269504088896341f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ExpScore(Vector512<float> x) => AttentionMath.Exp2NonPositive(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> SoftCap(Vector512<float> x, Vector512<float> cap, Vector512<float> invCap) => AttentionMath.SoftCap(x, cap, invCap);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ZeroWhereNegativeInfinity(Vector512<float> x) =>
        Vector512.ConditionalSelect(Vector512.Equals(x, Vector512.Create(float.NegativeInfinity)), default, x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ReciprocalOrZero(Vector512<float> x) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), Vector512<float>.One / x, default);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> DropOutside(Vector512<float> s, int pos, int* lo, int* hi)
    {
        var kp = Vector512.Create(pos);
        var outside = Vector512.GreaterThan(kp, Vector512.Load(hi)) | Vector512.LessThan(kp, Vector512.Load(lo));
        return Vector512.ConditionalSelect(outside.AsSingle(), Vector512.Create(float.NegativeInfinity), s);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> DropLanes(Vector512<float> s, uint lanes, int shift)
    {
        var bits = Vector512.ShiftRightLogical(Vector512.Create(lanes), shift) & Vector512.Create(1u, 1u << 1, 1u << 2, 1u << 3,
            1u << 4, 1u << 5, 1u << 6, 1u << 7, 1u << 8, 1u << 9, 1u << 10, 1u << 11, 1u << 12, 1u << 13, 1u << 14, 1u << 15);
        return Vector512.ConditionalSelect(Vector512.Equals(bits, Vector512<uint>.Zero).AsSingle(), Vector512.Create(float.NegativeInfinity), s);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddKeyTotals(float* row, float* pt, Vector512<float> f0, Vector512<float> f1)
    {
        var sum = AttentionMath.Sum16(
            Weighted(pt, f0, f1, 0), Weighted(pt, f0, f1, 1), Weighted(pt, f0, f1, 2), Weighted(pt, f0, f1, 3),
            Weighted(pt, f0, f1, 4), Weighted(pt, f0, f1, 5), Weighted(pt, f0, f1, 6), Weighted(pt, f0, f1, 7),
            Weighted(pt, f0, f1, 8), Weighted(pt, f0, f1, 9), Weighted(pt, f0, f1, 10), Weighted(pt, f0, f1, 11),
            Weighted(pt, f0, f1, 12), Weighted(pt, f0, f1, 13), Weighted(pt, f0, f1, 14), Weighted(pt, f0, f1, 15));
        (Vector512.Load(row) + sum).Store(row);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* pt, Vector512<float> f0, Vector512<float> f1) => Vector512.Sum(Weighted(pt, f0, f1, 0));

    /// <summary>The 32 probabilities of key k of a 16-key group folded into one vector (pairs of lanes summed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Weighted(float* pt, Vector512<float> f0, Vector512<float> f1, int k) =>
        Vector512.FusedMultiplyAdd(Vector512.Load(pt + k * L + 16), f1, Vector512.Load(pt + k * L) * f0);

    /// <summary>
    /// Writes S^T rows 0..nk-1 at <paramref name="st"/> for the keys <paramref name="k"/>.Row(0..nk-1) over
    /// <paramref name="d"/> dims, 8 keys per micro-kernel call, and folds them into the running lane maxima at
    /// <paramref name="max"/> (32 floats) while they are in registers. Past nk the last group repeats key nk-1 (its rows
    /// land in the scratch past the block). One call per key block: the rows of a group come from the struct (a stride
    /// in the dense case) rather than a pointer table the tile fills for every group (that fill was half of the tile's
    /// own time on B1 H12 T1024).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scores<TRows>(TRows k, int nk, float* qt, int d, float* st, float* max)
        where TRows : struct, IKeyRows
    {
        var m0 = Vector512.Load(max);
        var m1 = Vector512.Load(max + 16);
        int last = nk - 1;
        for (int j = 0; j < nk; j += 8)
            (m0, m1) = ScoreGroup(k.Row(j), k.Row(Math.Min(j + 1, last)), k.Row(Math.Min(j + 2, last)), k.Row(Math.Min(j + 3, last)),
                k.Row(Math.Min(j + 4, last)), k.Row(Math.Min(j + 5, last)), k.Row(Math.Min(j + 6, last)), k.Row(Math.Min(j + 7, last)),
                qt, d, st + j * L, m0, m1);
        m0.Store(max);
        m1.Store(max + 16);
    }

    // The 8 x 32 score micro-kernel: S^T rows of keys k0..k7, stored, and the lane maxima folded in.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float>, Vector512<float>) ScoreGroup(float* k0, float* k1, float* k2, float* k3, float* k4, float* k5,
        float* k6, float* k7, float* qt, int d, float* st, Vector512<float> max0, Vector512<float> max1)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        for (int i = 0; i < d; i++)
        {
            var q0 = Vector512.Load(qt);
            var q1 = Vector512.Load(qt + 16);
            var b = Vector512.Create(k0[i]);
            c00 = Vector512.FusedMultiplyAdd(b, q0, c00);
            c01 = Vector512.FusedMultiplyAdd(b, q1, c01);
            b = Vector512.Create(k1[i]);
            c10 = Vector512.FusedMultiplyAdd(b, q0, c10);
            c11 = Vector512.FusedMultiplyAdd(b, q1, c11);
            b = Vector512.Create(k2[i]);
            c20 = Vector512.FusedMultiplyAdd(b, q0, c20);
            c21 = Vector512.FusedMultiplyAdd(b, q1, c21);
            b = Vector512.Create(k3[i]);
            c30 = Vector512.FusedMultiplyAdd(b, q0, c30);
            c31 = Vector512.FusedMultiplyAdd(b, q1, c31);
            b = Vector512.Create(k4[i]);
            c40 = Vector512.FusedMultiplyAdd(b, q0, c40);
            c41 = Vector512.FusedMultiplyAdd(b, q1, c41);
            b = Vector512.Create(k5[i]);
            c50 = Vector512.FusedMultiplyAdd(b, q0, c50);
            c51 = Vector512.FusedMultiplyAdd(b, q1, c51);
            b = Vector512.Create(k6[i]);
            c60 = Vector512.FusedMultiplyAdd(b, q0, c60);
            c61 = Vector512.FusedMultiplyAdd(b, q1, c61);
            b = Vector512.Create(k7[i]);
            c70 = Vector512.FusedMultiplyAdd(b, q0, c70);
            c71 = Vector512.FusedMultiplyAdd(b, q1, c71);
            qt += L;
        }
        c00.Store(st); c01.Store(st + 16);
        c10.Store(st + 32); c11.Store(st + 48);
        c20.Store(st + 64); c21.Store(st + 80);
        c30.Store(st + 96); c31.Store(st + 112);
        c40.Store(st + 128); c41.Store(st + 144);
        c50.Store(st + 160); c51.Store(st + 176);
        c60.Store(st + 192); c61.Store(st + 208);
        c70.Store(st + 224); c71.Store(st + 240);
        var m0 = Avx512F.Max(Avx512F.Max(Avx512F.Max(c00, c10), Avx512F.Max(c20, c30)), Avx512F.Max(Avx512F.Max(c40, c50), Avx512F.Max(c60, c70)));
        var m1 = Avx512F.Max(Avx512F.Max(Avx512F.Max(c01, c11), Avx512F.Max(c21, c31)), Avx512F.Max(Avx512F.Max(c41, c51), Avx512F.Max(c61, c71)));
        return (Avx512F.Max(m0, max0), Avx512F.Max(m1, max1));
    }

    /// <summary>
    /// O^T = alpha * O^T + V^T P^T over one key block of <paramref name="nk"/> keys and <paramref name="d"/> &gt;= 8 head
    /// dims, 8 dims per micro-kernel pass, where the first pass also turns the block's scores into probabilities on the
    /// way: P^T[j, :] = ExpScore(S^T[j, :] - n) is written over S^T row j (the later passes and the exports read it) and
    /// its lane sums are stored at <paramref name="sums"/> (2 vectors). The exponentials' non-FMA work overlaps that
    /// pass's FMAs instead of running as a separate pass over the block. One call per block: the passes share this
    /// frame instead of paying a call, and the spill of alpha, each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    public static void ValuesBlock<TRows>(TRows v, int nk, int d, float* pt, float* ot, Vector512<float> alpha0, Vector512<float> alpha1,
        Vector512<float> n0, Vector512<float> n1, float* sums)
        where TRows : struct, IKeyRows
    {
        ValueTile<TRows, AttentionProbabilities.FromScoresOnTheWay>(v, nk, 0, pt, ot, alpha0, alpha1, n0, n1, sums);
        int dr = d - d % 8;
        for (int d0 = 8; d0 < dr; d0 += 8)
            ValueTile<TRows, AttentionProbabilities.Stored>(v, nk, d0, pt, ot, alpha0, alpha1, default, default, null);
        for (int k = dr; k < d; k++) ValuesRow(v, nk, k, pt, ot, alpha0, alpha1);
    }

    // The 8 x 32 value micro-kernel of ValuesBlock: TP says whether P^T is read as stored or taken from the scores on the
    // way (a JIT-time constant: each instance compiles to its own loop, accumulators in registers). ValuesBlock stays a call
    // (NoInlining): inlined into the tile, the loops would share its registers.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ValueTile<TRows, TP>(TRows v, int nk, int d0, float* pt, float* ot, Vector512<float> alpha0,
        Vector512<float> alpha1, Vector512<float> n0, Vector512<float> n1, float* sums)
        where TRows : struct, IKeyRows
        where TP : struct, AttentionProbabilities.IMode
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        Vector512<float> s0 = default, s1 = default, e0 = default, e1 = default;
        if (TP.FromScores)
        {
            e0 = ExpScore(Vector512.Load(pt) - n0);
            e1 = ExpScore(Vector512.Load(pt + 16) - n1);
        }
        for (int j = 0; j < nk; j++)
        {
            float* vp = v.Row(j) + d0;
            Vector512<float> p0, p1;
            if (TP.FromScores)
            {
                (p0, p1) = (e0, e1);
                p0.Store(pt);
                p1.Store(pt + 16);
                s0 += p0;
                s1 += p1;
                // The next key's exponentials, so that their latency chain overlaps this key's FMAs. S^T has Rows rows
                // of scratch past the block, so reading row nk is in bounds (its result is never used).
                e0 = ExpScore(Vector512.Load(pt + L) - n0);
                e1 = ExpScore(Vector512.Load(pt + L + 16) - n1);
            }
            else
            {
                p0 = Vector512.Load(pt);
                p1 = Vector512.Load(pt + 16);
            }
            var b = Vector512.Create(vp[0]);
            c00 = Vector512.FusedMultiplyAdd(b, p0, c00);
            c01 = Vector512.FusedMultiplyAdd(b, p1, c01);
            b = Vector512.Create(vp[1]);
            c10 = Vector512.FusedMultiplyAdd(b, p0, c10);
            c11 = Vector512.FusedMultiplyAdd(b, p1, c11);
            b = Vector512.Create(vp[2]);
            c20 = Vector512.FusedMultiplyAdd(b, p0, c20);
            c21 = Vector512.FusedMultiplyAdd(b, p1, c21);
            b = Vector512.Create(vp[3]);
            c30 = Vector512.FusedMultiplyAdd(b, p0, c30);
            c31 = Vector512.FusedMultiplyAdd(b, p1, c31);
            b = Vector512.Create(vp[4]);
            c40 = Vector512.FusedMultiplyAdd(b, p0, c40);
            c41 = Vector512.FusedMultiplyAdd(b, p1, c41);
            b = Vector512.Create(vp[5]);
            c50 = Vector512.FusedMultiplyAdd(b, p0, c50);
            c51 = Vector512.FusedMultiplyAdd(b, p1, c51);
            b = Vector512.Create(vp[6]);
            c60 = Vector512.FusedMultiplyAdd(b, p0, c60);
            c61 = Vector512.FusedMultiplyAdd(b, p1, c61);
            b = Vector512.Create(vp[7]);
            c70 = Vector512.FusedMultiplyAdd(b, p0, c70);
            c71 = Vector512.FusedMultiplyAdd(b, p1, c71);
            pt += L;
        }
        if (TP.FromScores)
        {
            s0.Store(sums);
            s1.Store(sums + 16);
        }
        float* o = ot + d0 * L;
        Update(o, c00, c01, alpha0, alpha1);
        Update(o + 32, c10, c11, alpha0, alpha1);
        Update(o + 64, c20, c21, alpha0, alpha1);
        Update(o + 96, c30, c31, alpha0, alpha1);
        Update(o + 128, c40, c41, alpha0, alpha1);
        Update(o + 160, c50, c51, alpha0, alpha1);
        Update(o + 192, c60, c61, alpha0, alpha1);
        Update(o + 224, c70, c71, alpha0, alpha1);
    }

    /// <summary>One O^T row (head dim <paramref name="d"/>), for head dims past the last multiple of 8.</summary>
    public static void ValuesRow<TRows>(TRows v, int nk, int d, float* pt, float* ot, Vector512<float> alpha0, Vector512<float> alpha1)
        where TRows : struct, IKeyRows
    {
        Vector512<float> c0 = default, c1 = default;
        for (int j = 0; j < nk; j++)
        {
            var b = Vector512.Create(v.Row(j)[d]);
            c0 = Vector512.FusedMultiplyAdd(b, Vector512.Load(pt + j * L), c0);
            c1 = Vector512.FusedMultiplyAdd(b, Vector512.Load(pt + j * L + 16), c1);
        }
        Update(ot + d * L, c0, c1, alpha0, alpha1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update(float* o, Vector512<float> c0, Vector512<float> c1, Vector512<float> a0, Vector512<float> a1)
    {
        Vector512.FusedMultiplyAdd(Vector512.Load(o), a0, c0).Store(o);
        Vector512.FusedMultiplyAdd(Vector512.Load(o + 16), a1, c1).Store(o + 16);
    }
}
