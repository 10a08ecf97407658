// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The Vector256 instance of the fused attention tile (AVX2 machines): 16 queries = two Vector256 per tile row and
// 4x16 micro-kernels (8 accumulators + 2 loads + a broadcast of AVX2's 16 registers; the 8x32 shape of the
// Vector512 tile would spill), the same S^T / O^T layout as AttentionIsa512.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HpcCore.Cpu;

/// <summary>Vector256 lanes and 4x16 micro-kernels of the fused attention tile.</summary>
internal unsafe partial struct AttentionIsa256 : IAttentionIsa<Vector256<float>>
{
    private const int L = 16;

    public static int Width => 8;

    public static int Rows => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* p) => Vector256.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> x, float* p) => x.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Create(float x) => Vector256.Create(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> FusedMultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x) => SimdMath.Exp(x);

    public static float ScoreUnit => 1f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ExpScore(Vector256<float> x) => SimdMath.Exp(x);

    /// <summary><c>cap * tanh(x / cap)</c>, as <see cref="AttentionMath.SoftCap(Vector512{float}, Vector512{float}, Vector512{float})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> SoftCap(Vector256<float> x, Vector256<float> cap, Vector256<float> invCap)
    {
        var y = x * invCap;
        var e = SimdMath.Exp(Vector256.Create(-2f) * Vector256.Abs(y));
        var t = (Vector256<float>.One - e) / (Vector256<float>.One + e);
        return cap * Vector256.BitwiseOr(t, Vector256.BitwiseAnd(y, Vector256.Create(-0f)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ZeroWhereNegativeInfinity(Vector256<float> x) =>
        Vector256.ConditionalSelect(Vector256.Equals(x, Vector256.Create(float.NegativeInfinity)), default, x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ReciprocalOrZero(Vector256<float> x) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), Vector256<float>.One / x, default);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> DropOutside(Vector256<float> s, int pos, int* lo, int* hi)
    {
        var kp = Vector256.Create(pos);
        var outside = Vector256.GreaterThan(kp, Vector256.Load(hi)) | Vector256.LessThan(kp, Vector256.Load(lo));
        return Vector256.ConditionalSelect(outside.AsSingle(), Vector256.Create(float.NegativeInfinity), s);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> DropLanes(Vector256<float> s, uint lanes, int shift)
    {
        var bits = Vector256.ShiftRightLogical(Vector256.Create(lanes), shift)
            & Vector256.Create(1u, 1u << 1, 1u << 2, 1u << 3, 1u << 4, 1u << 5, 1u << 6, 1u << 7);
        return Vector256.ConditionalSelect(Vector256.Equals(bits, Vector256<uint>.Zero).AsSingle(), Vector256.Create(float.NegativeInfinity), s);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddKeyTotals(float* row, float* pt, Vector256<float> f0, Vector256<float> f1)
    {
        var sum = Sum8(Weighted(pt, f0, f1, 0), Weighted(pt, f0, f1, 1), Weighted(pt, f0, f1, 2), Weighted(pt, f0, f1, 3),
            Weighted(pt, f0, f1, 4), Weighted(pt, f0, f1, 5), Weighted(pt, f0, f1, 6), Weighted(pt, f0, f1, 7));
        (Vector256.Load(row) + sum).Store(row);
    }

    /// <summary>Lane k = the sum of the lanes of x_k (8 horizontal sums at once).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Sum8(
        Vector256<float> x0, Vector256<float> x1, Vector256<float> x2, Vector256<float> x3,
        Vector256<float> x4, Vector256<float> x5, Vector256<float> x6, Vector256<float> x7)
    {
        if (!Avx.IsSupported)
        {
            return Vector256.Create(Vector256.Sum(x0), Vector256.Sum(x1), Vector256.Sum(x2), Vector256.Sum(x3),
                Vector256.Sum(x4), Vector256.Sum(x5), Vector256.Sum(x6), Vector256.Sum(x7));
        }
        // hadd(hadd(x0, x1), hadd(x2, x3)) holds the 128-bit-half sums of x0..x3 in each half; adding the halves
        // of that and of the x4..x7 counterpart gives lane k = the sum of x_k.
        var a = Avx.HorizontalAdd(Avx.HorizontalAdd(x0, x1), Avx.HorizontalAdd(x2, x3));
        var b = Avx.HorizontalAdd(Avx.HorizontalAdd(x4, x5), Avx.HorizontalAdd(x6, x7));
        return Avx.Permute2x128(a, b, 0x20) + Avx.Permute2x128(a, b, 0x31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* pt, Vector256<float> f0, Vector256<float> f1) => Vector256.Sum(Weighted(pt, f0, f1, 0));

    /// <summary>The 16 probabilities of key k of an 8-key group folded into one vector (pairs of lanes summed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Weighted(float* pt, Vector256<float> f0, Vector256<float> f1, int k) =>
        Vector256.FusedMultiplyAdd(Vector256.Load(pt + k * L + 8), f1, Vector256.Load(pt + k * L) * f0);

    /// <summary>
    /// Writes S^T rows 0..nk-1 at <paramref name="st"/> for the keys <paramref name="k"/>.Row(0..nk-1), 4 keys per
    /// micro-kernel call, and folds them into the running lane maxima at <paramref name="max"/> (16 floats); past nk the
    /// last group repeats key nk-1 (see AttentionIsa512.Scores).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scores<TRows>(TRows k, int nk, float* qt, int d, float* st, float* max)
        where TRows : struct, IKeyRows
    {
        var m0 = Vector256.Load(max);
        var m1 = Vector256.Load(max + 8);
        int last = nk - 1;
        for (int j = 0; j < nk; j += 4)
            (m0, m1) = ScoreGroup(k.Row(j), k.Row(Math.Min(j + 1, last)), k.Row(Math.Min(j + 2, last)), k.Row(Math.Min(j + 3, last)),
                qt, d, st + j * L, m0, m1);
        m0.Store(max);
        m1.Store(max + 8);
    }

    // The 4 x 16 score micro-kernel: S^T rows of keys k0..k3, stored, and the lane maxima folded in.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float>, Vector256<float>) ScoreGroup(float* k0, float* k1, float* k2, float* k3, float* qt, int d, float* st,
        Vector256<float> max0, Vector256<float> max1)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int i = 0; i < d; i++)
        {
            var q0 = Vector256.Load(qt);
            var q1 = Vector256.Load(qt + 8);
            var b = Vector256.Create(k0[i]);
            c00 = Vector256.FusedMultiplyAdd(b, q0, c00);
            c01 = Vector256.FusedMultiplyAdd(b, q1, c01);
            b = Vector256.Create(k1[i]);
            c10 = Vector256.FusedMultiplyAdd(b, q0, c10);
            c11 = Vector256.FusedMultiplyAdd(b, q1, c11);
            b = Vector256.Create(k2[i]);
            c20 = Vector256.FusedMultiplyAdd(b, q0, c20);
            c21 = Vector256.FusedMultiplyAdd(b, q1, c21);
            b = Vector256.Create(k3[i]);
            c30 = Vector256.FusedMultiplyAdd(b, q0, c30);
            c31 = Vector256.FusedMultiplyAdd(b, q1, c31);
            qt += L;
        }
        c00.Store(st); c01.Store(st + 8);
        c10.Store(st + 16); c11.Store(st + 24);
        c20.Store(st + 32); c21.Store(st + 40);
        c30.Store(st + 48); c31.Store(st + 56);
        return (Vector256.Max(Vector256.Max(Vector256.Max(c00, c10), Vector256.Max(c20, c30)), max0),
            Vector256.Max(Vector256.Max(Vector256.Max(c01, c11), Vector256.Max(c21, c31)), max1));
    }

    /// <summary>
    /// O^T = alpha * O^T + V^T P^T over one key block of <paramref name="nk"/> keys and <paramref name="d"/> &gt;= 4 head
    /// dims, 4 dims per micro-kernel pass, where the first pass also turns the block's scores into probabilities on the
    /// way: P^T[j, :] = ExpScore(S^T[j, :] - n) is written over S^T row j (the later passes and the exports read it) and
    /// its lane sums are stored at <paramref name="sums"/> (2 vectors). The exponentials' non-FMA work overlaps that
    /// pass's FMAs instead of running as a separate pass over the block. One call per block: the passes share this
    /// frame instead of paying a call, and the spill of alpha, each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    public static void ValuesBlock<TRows>(TRows v, int nk, int d, float* pt, float* ot, Vector256<float> alpha0, Vector256<float> alpha1,
        Vector256<float> n0, Vector256<float> n1, float* sums)
        where TRows : struct, IKeyRows
    {
        ValueTile<TRows, AttentionProbabilities.FromScoresOnTheWay>(v, nk, 0, pt, ot, alpha0, alpha1, n0, n1, sums);
        int dr = d - d % 4;
        for (int d0 = 4; d0 < dr; d0 += 4)
            ValueTile<TRows, AttentionProbabilities.Stored>(v, nk, d0, pt, ot, alpha0, alpha1, default, default, null);
        for (int k = dr; k < d; k++) ValuesRow(v, nk, k, pt, ot, alpha0, alpha1);
    }

    // The 4 x 16 value micro-kernel of ValuesBlock (see AttentionIsa512.ValueTile); AVX2's 16 registers leave no room to
    // pipeline the exponentials a key ahead.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ValueTile<TRows, TP>(TRows v, int nk, int d0, float* pt, float* ot, Vector256<float> alpha0,
        Vector256<float> alpha1, Vector256<float> n0, Vector256<float> n1, float* sums)
        where TRows : struct, IKeyRows
        where TP : struct, AttentionProbabilities.IMode
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector256<float> s0 = default, s1 = default;
        for (int j = 0; j < nk; j++)
        {
            float* vp = v.Row(j) + d0;
            Vector256<float> p0, p1;
            if (TP.FromScores)
            {
                p0 = ExpScore(Vector256.Load(pt) - n0);
                p1 = ExpScore(Vector256.Load(pt + 8) - n1);
                p0.Store(pt);
                p1.Store(pt + 8);
                s0 += p0;
                s1 += p1;
            }
            else
            {
                p0 = Vector256.Load(pt);
                p1 = Vector256.Load(pt + 8);
            }
            var b = Vector256.Create(vp[0]);
            c00 = Vector256.FusedMultiplyAdd(b, p0, c00);
            c01 = Vector256.FusedMultiplyAdd(b, p1, c01);
            b = Vector256.Create(vp[1]);
            c10 = Vector256.FusedMultiplyAdd(b, p0, c10);
            c11 = Vector256.FusedMultiplyAdd(b, p1, c11);
            b = Vector256.Create(vp[2]);
            c20 = Vector256.FusedMultiplyAdd(b, p0, c20);
            c21 = Vector256.FusedMultiplyAdd(b, p1, c21);
            b = Vector256.Create(vp[3]);
            c30 = Vector256.FusedMultiplyAdd(b, p0, c30);
            c31 = Vector256.FusedMultiplyAdd(b, p1, c31);
            pt += L;
        }
        if (TP.FromScores)
        {
            s0.Store(sums);
            s1.Store(sums + 8);
        }
        float* o = ot + d0 * L;
        Update(o, c00, c01, alpha0, alpha1);
        Update(o + 16, c10, c11, alpha0, alpha1);
        Update(o + 32, c20, c21, alpha0, alpha1);
        Update(o + 48, c30, c31, alpha0, alpha1);
    }

    /// <summary>One O^T row (head dim <paramref name="d"/>), for head dims past the last multiple of 4.</summary>
    public static void ValuesRow<TRows>(TRows v, int nk, int d, float* pt, float* ot, Vector256<float> alpha0, Vector256<float> alpha1)
        where TRows : struct, IKeyRows
    {
        Vector256<float> c0 = default, c1 = default;
        for (int j = 0; j < nk; j++)
        {
            var b = Vector256.Create(v.Row(j)[d]);
            c0 = Vector256.FusedMultiplyAdd(b, Vector256.Load(pt + j * L), c0);
            c1 = Vector256.FusedMultiplyAdd(b, Vector256.Load(pt + j * L + 8), c1);
        }
        Update(ot + d * L, c0, c1, alpha0, alpha1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update(float* o, Vector256<float> c0, Vector256<float> c1, Vector256<float> a0, Vector256<float> a1)
    {
        Vector256.FusedMultiplyAdd(Vector256.Load(o), a0, c0).Store(o);
        Vector256.FusedMultiplyAdd(Vector256.Load(o + 8), a1, c1).Store(o + 8);
    }
}
