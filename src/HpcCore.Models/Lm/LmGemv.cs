// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm;

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using HpcCore.Ops;
using HpcCore.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

/// <summary>
/// The decoder's linear layers. A single decode row against a small weight is a matrix-vector product whose cost
/// is dominated by per-call overhead in the general GEMM (validation, planning, packing, dispatch): there it runs on
/// the calling thread, four output rows at a time so that each 8-float slice of x is loaded once for four weight
/// rows (one library dot product per output row paid its call overhead 3,500 times per stories260K token).
/// Everything else goes to <see cref="Gemm"/>. Checked end to end against the double-precision reference forward
/// (LmDecoderTests) and directly in LmGemvTests.
/// </summary>
internal static class LmGemv
{
    /// <summary>Weights up to this many floats use the single-thread path for one row (larger ones gain from threads).</summary>
    private const long SmallWeight = 1 << 20;

    /// <summary>destination = x W^T (+ bias) (+ destination when <paramref name="accumulate"/>), x [rows, in], W [out, in].</summary>
    public static void Linear(Tensor x, Tensor w, Tensor? bias, Tensor destination, bool accumulate)
    {
        if (x.Shape[0] != 1 || w.ElementCount > SmallWeight)
        {
            Gemm.Multiply(x, w, destination, new GemmOptions(TransposeB: true, Beta: accumulate ? 1f : 0f, Bias: bias));
            return;
        }
        Row(x.AsSpan<float>(), w.AsSpan<float>(), bias is null ? default : bias.AsSpan<float>(), destination.AsSpan<float>(), accumulate);
    }

    /// <summary>y = W x (+ bias) (+ y when <paramref name="accumulate"/>) for one row x [in], W [y.Length, in].</summary>
    public static void Row(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, bool accumulate)
    {
        int n = x.Length, o = 0;
        Span<float> v = stackalloc float[4];
        if (Vector256.IsHardwareAccelerated && n >= 8)
            for (; o + 4 <= y.Length; o += 4)
            {
                Dot4(x, w.Slice(o * n, 4 * n), v);
                for (int r = 0; r < 4; r++) Store(y, bias, o + r, v[r], accumulate);
            }
        for (; o < y.Length; o++) Store(y, bias, o, TensorPrimitives.Dot(x, w.Slice(o * n, n)), accumulate);
    }

    private static void Store(Span<float> y, ReadOnlySpan<float> bias, int o, float v, bool accumulate)
    {
        if (!bias.IsEmpty) v += bias[o];
        y[o] = accumulate ? y[o] + v : v;
    }

    // Four dot products of x with consecutive weight rows w [4, n].
    private static void Dot4(ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> result)
    {
        int n = x.Length, i = 0;
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float w0 = ref MemoryMarshal.GetReference(w);
        ref float w1 = ref Unsafe.Add(ref w0, n);
        ref float w2 = ref Unsafe.Add(ref w1, n);
        ref float w3 = ref Unsafe.Add(ref w2, n);
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (; i + 8 <= n; i += 8)
        {
            var xv = Vector256.LoadUnsafe(ref xs, (nuint)i);
            a0 = Vector256.FusedMultiplyAdd(xv, Vector256.LoadUnsafe(ref w0, (nuint)i), a0);
            a1 = Vector256.FusedMultiplyAdd(xv, Vector256.LoadUnsafe(ref w1, (nuint)i), a1);
            a2 = Vector256.FusedMultiplyAdd(xv, Vector256.LoadUnsafe(ref w2, (nuint)i), a2);
            a3 = Vector256.FusedMultiplyAdd(xv, Vector256.LoadUnsafe(ref w3, (nuint)i), a3);
        }
        float r0 = Vector256.Sum(a0), r1 = Vector256.Sum(a1), r2 = Vector256.Sum(a2), r3 = Vector256.Sum(a3);
        for (; i < n; i++)
        {
            float xi = Unsafe.Add(ref xs, i);
            r0 += xi * Unsafe.Add(ref w0, i);
            r1 += xi * Unsafe.Add(ref w1, i);
            r2 += xi * Unsafe.Add(ref w2, i);
            r3 += xi * Unsafe.Add(ref w3, i);
        }
        result[0] = r0;
        result[1] = r1;
        result[2] = r2;
        result[3] = r3;
    }
}
