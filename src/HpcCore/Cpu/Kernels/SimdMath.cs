// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Vector exp for the row kernels (softmax, SiLU, GELU). Why not TensorPrimitives.Exp or Vector512.Exp: the BCL's
// float exp widens to double for accuracy and measured ~8 ns per element here (1M exps in 8 ms), which made a
// [2364, 197] softmax take longer than the GEMMs around it. Cody-Waite range reduction by ln 2 plus a degree-6
// Taylor polynomial on |r| <= ln2/2 gives ~1.2e-7 relative error, below the float rounding of the sums around it.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace HpcCore.Cpu;

/// <summary>Fast elementwise exp on Vector512 and Vector256 (exactly 0 below -87.3 and for -inf; clamped at e^88).</summary>
internal static class SimdMath
{
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;
    private const float Underflow = -87.3f;
    private const float Overflow = 88f;

    /// <summary>e^x per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var under = Vector512.LessThan(x, Vector512.Create(Underflow));
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(Underflow)), Vector512.Create(Overflow));
        var n = Vector512.Round(x * Vector512.Create(Log2E));
        var p = ExpReduced(x, n);
        // 2^n in the exponent field: n is in [-126, 127] after the clamp, so the biased exponent is normal.
        var scale = Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle();
        return Vector512.AndNot(p * scale, under.AsSingle());
    }

    /// <summary>
    /// e^x / 2^n for n = round(x / ln 2): Cody-Waite reduction r = x - n ln 2 (ln 2 split in two) and the degree-6
    /// Taylor polynomial of e^r, |r| &lt;= ln(2) / 2. Callers scale by 2^n their own way.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> ExpReduced(Vector512<float> x, Vector512<float> n)
    {
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(1f / 720), r, Vector512.Create(1f / 120));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 24));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 6));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.5f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        return p;
    }

    /// <summary>e^x per lane (AVX2 machines).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        var under = Vector256.LessThan(x, Vector256.Create(Underflow));
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(Underflow)), Vector256.Create(Overflow));
        var n = Vector256.Round(x * Vector256.Create(Log2E));
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(1f / 720), r, Vector256.Create(1f / 120));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 24));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 6));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(0.5f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        var scale = Vector256.ShiftLeft(Vector256.ConvertToInt32(n) + Vector256.Create(127), 23).AsSingle();
        return Vector256.AndNot(p * scale, under.AsSingle());
    }

    /// <summary>Scalar e^x with the same flush-to-zero rule (for tails).</summary>
    public static float Exp(float x) => x < Underflow ? 0f : MathF.Exp(MathF.Min(x, Overflow));
}
