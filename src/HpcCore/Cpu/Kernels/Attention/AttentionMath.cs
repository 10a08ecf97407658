// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Vector512 exp and soft-capping for the attention softmax. Why not Vector512.Exp: the BCL's float exp widens to
// double for accuracy, several times slower than this Cody-Waite reduction plus a degree-6 polynomial (~1e-7
// relative error), which is below the rounding of the float accumulations around it.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace HpcCore.Cpu;

/// <summary>Elementwise math on Vector512 for the attention kernels.</summary>
internal static class AttentionMath
{
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;

    // Below this, exp underflows float's normal range; the result is flushed to exactly 0 so that masked (-inf)
    // logits contribute nothing and fully masked rows keep a zero sum.
    private const float Underflow = -87.3f;

    /// <summary>
    /// e^x for every lane: exactly 0 for x below -87.3 (and for -inf), clamped at e^88 above (never inf or NaN
    /// for non-NaN input, so 0 * e^x stays 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var under = Vector512.LessThan(x, Vector512.Create(Underflow));
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(Underflow)), Vector512.Create(88f));
        var n = Vector512.Round(x * Vector512.Create(Log2E));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        // Taylor series of e^r for |r| <= ln2/2: the r^7 term is 1.2e-7 relative.
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(1f / 720), r, Vector512.Create(1f / 120));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 24));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 6));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.5f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        // 2^n built in the exponent field: n lies in [-126, 127] after the clamp, so the biased exponent is normal.
        var scale = Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle();
        return Vector512.AndNot(p * scale, under.AsSingle());
    }

    /// <summary><c>cap * tanh(x / cap)</c> (logit soft-capping, Gemma 2), via tanh|y| = (1 - e^-2|y|) / (1 + e^-2|y|).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> SoftCap(Vector512<float> x, Vector512<float> cap, Vector512<float> invCap)
    {
        var y = x * invCap;
        var e = Exp(Vector512.Create(-2f) * Vector512.Abs(y));
        var t = (Vector512<float>.One - e) / (Vector512<float>.One + e);
        var sign = Vector512.BitwiseAnd(y, Vector512.Create(-0f));
        return cap * Vector512.BitwiseOr(t, sign);
    }

    /// <summary>Scalar <c>cap * tanh(x / cap)</c>, for the row kernels.</summary>
    public static float SoftCap(float x, float cap) => cap * MathF.Tanh(x / cap);
}
