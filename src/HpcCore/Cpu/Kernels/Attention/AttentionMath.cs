// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Soft-capping and reductions for the attention kernels; exp is SimdMath.Exp (shared with the row kernels).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HpcCore.Cpu;

/// <summary>Elementwise math on Vector512 for the attention kernels.</summary>
internal static class AttentionMath
{
    /// <summary><c>cap * tanh(x / cap)</c> (logit soft-capping, Gemma 2), via tanh|y| = (1 - e^-2|y|) / (1 + e^-2|y|).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> SoftCap(Vector512<float> x, Vector512<float> cap, Vector512<float> invCap)
    {
        var y = x * invCap;
        var e = SimdMath.Exp(Vector512.Create(-2f) * Vector512.Abs(y));
        var t = (Vector512<float>.One - e) / (Vector512<float>.One + e);
        var sign = Vector512.BitwiseAnd(y, Vector512.Create(-0f));
        return cap * Vector512.BitwiseOr(t, sign);
    }

    /// <summary>
    /// e^x for x &lt;= 0, -inf or NaN: every exp of the online softmax (s - m, m_old - m_new, m_block - m_final) is one.
    /// x is clamped below at -110, where 2^n underflows to exactly 0 inside vscalefps (which also replaces the
    /// exponent-field arithmetic); r = x - n ln 2 in one FMA (ln 2 rounded to float: |n| &lt;= 159 gives |error| &lt;= 3e-7
    /// in r, a relative 3e-7 only for results below e^-100, 2e-8 at e^-10) and e^r by a degree-5 minimax polynomial
    /// on |r| &lt;= ln(2) / 2 (relative error 7.5e-8, below the degree-6 Taylor polynomial's 1.2e-7): 10 instructions
    /// where SimdMath.Exp takes about 20 (exp is ~10% of the tile's FMA-pipe work). Results in (-110, -87.3) are
    /// denormals where SimdMath gives 0. NaN stays NaN (vmaxps returns its second operand when either is NaN).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ExpNonPositive(Vector512<float> x)
    {
        x = Avx512F.Max(Vector512.Create(-110f), x);
        var n = Avx512F.RoundScale(x * Vector512.Create(1.44269504088896341f), 0);
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-0.693147182464599609375f), x);
        // Minimax coefficients (Remez on the relative error, 40-digit arithmetic).
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(0.0082976551982714186f), r, Vector512.Create(0.041915381977922723f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.16667574726749988f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.49998894851472441f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.99999969199228336f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0000000716546416f));
        return Avx512F.Scale(p, n);
    }

    /// <summary>
    /// 2^x for x &lt;= 0, -inf or NaN: <see cref="ExpNonPositive"/> for scores kept in log2 units (the tile folds log2(e)
    /// into the query scale, as FlashAttention's kernels do). The range reduction is exact (r = x - round(x)), so the
    /// FMA pipes do the five polynomial FMAs and the scaling only: two operations fewer than e^x per exponential, 2% of a
    /// T1024 tile. Same polynomial (coefficients times ln(2)^k); with the float rounding of its steps the result is within
    /// 2.1e-7 relative of 2^x (AttentionMathTests sweeps it against double). x is clamped below at -160, where 2^n
    /// underflows to exactly 0 inside vscalefps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp2NonPositive(Vector512<float> x)
    {
        x = Avx512F.Max(Vector512.Create(-160f), x);
        var n = Avx512F.RoundScale(x, 0);
        var r = x - n;
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(0.0013276472167819942f), r, Vector512.Create(0.00967554133102139f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.0555071327287539f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.24022119723969176f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.6931469670652649f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0000000716546416f));
        return Avx512F.Scale(p, n);
    }

    /// <summary>Scalar <c>cap * tanh(x / cap)</c>, for the row kernels.</summary>
    public static float SoftCap(float x, float cap) => cap * MathF.Tanh(x / cap);

    /// <summary>
    /// Lane i = the sum of the lanes of x_i (16 horizontal sums at once): a transposed pairwise reduction of 30
    /// shuffles and 15 adds, against about 8 instructions (half of them serial) for each separate horizontal sum.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sum16(
        Vector512<float> x0, Vector512<float> x1, Vector512<float> x2, Vector512<float> x3,
        Vector512<float> x4, Vector512<float> x5, Vector512<float> x6, Vector512<float> x7,
        Vector512<float> x8, Vector512<float> x9, Vector512<float> x10, Vector512<float> x11,
        Vector512<float> x12, Vector512<float> x13, Vector512<float> x14, Vector512<float> x15)
    {
        // Per 128-bit lane: [a0+a2, b0+b2, a1+a3, b1+b3], then [sum a, sum b, sum c, sum d] of that lane.
        var p0 = Quad(Pair(x0, x1), Pair(x2, x3));
        var p1 = Quad(Pair(x4, x5), Pair(x6, x7));
        var p2 = Quad(Pair(x8, x9), Pair(x10, x11));
        var p3 = Quad(Pair(x12, x13), Pair(x14, x15));
        // Fold the four 128-bit lanes: [p0 lanes 0+1, p0 lanes 2+3, p1 lanes 0+1, p1 lanes 2+3], then once more.
        var z0 = Avx512F.Shuffle4x128(p0, p1, 0x88) + Avx512F.Shuffle4x128(p0, p1, 0xDD);
        var z1 = Avx512F.Shuffle4x128(p2, p3, 0x88) + Avx512F.Shuffle4x128(p2, p3, 0xDD);
        return Avx512F.Shuffle4x128(z0, z1, 0x88) + Avx512F.Shuffle4x128(z0, z1, 0xDD);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pair(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackLow(a, b) + Avx512F.UnpackHigh(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Quad(Vector512<float> x, Vector512<float> y) =>
        Avx512F.UnpackLow(x.AsDouble(), y.AsDouble()).AsSingle() + Avx512F.UnpackHigh(x.AsDouble(), y.AsDouble()).AsSingle();
}
