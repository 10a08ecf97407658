// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The Vector256 matrix-vector kernel (machines without accelerated Vector512, and K from 8 to 15 on those with it):
// the same eight-row scheme as GemvKernel512 (8 ymm accumulators + x + one weight vector fit AVX2's 16 registers),
// a scalar version for K below 8, and the horizontal sum that turns eight accumulators into one vector of eight
// dot products (three rounds of pairwise adds instead of eight separate reductions: at K = 64 a separate
// reduction per row cost as much as the row's FMAs).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HpcCore.Cpu;

/// <summary>Vector256 GEMV kernel: eight dot products of x [K] with weight rows w [8, K] (row stride ldw).</summary>
internal static unsafe class GemvKernel256
{
    /// <summary>Vector width in floats; <see cref="Dot8{T, TLoad}"/> needs K of at least this.</summary>
    public const int Width = 8;

    // 8 zero words then 8 all-ones words: the 8 words from offset r keep the last r lanes.
    private static ReadOnlySpan<uint> TailMasks => [0, 0, 0, 0, 0, 0, 0, 0, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u];

    /// <summary>Same contract as <see cref="GemvKernel512.Dot8{T, TLoad}"/>; needs <paramref name="k"/> &gt;= <see cref="Width"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Vector256<float> Dot8<T, TLoad>(float* x, T* w, long ldw, int rows, int k)
        where T : unmanaged
        where TLoad : struct, IGemmLoad<T>
    {
        T* w0 = w;
        T* w1 = w0 + (rows > 1 ? ldw : 0);
        T* w2 = w1 + (rows > 2 ? ldw : 0);
        T* w3 = w2 + (rows > 3 ? ldw : 0);
        T* w4 = w3 + (rows > 4 ? ldw : 0);
        T* w5 = w4 + (rows > 5 ? ldw : 0);
        T* w6 = w5 + (rows > 6 ? ldw : 0);
        T* w7 = w6 + (rows > 7 ? ldw : 0);
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<float> a4 = default, a5 = default, a6 = default, a7 = default;
        int i = 0;
        for (; i <= k - Width; i += Width)
        {
            var xv = Vector256.Load(x + i);
            a0 = Vector256.FusedMultiplyAdd(xv, TLoad.Load8(w0 + i), a0);
            a1 = Vector256.FusedMultiplyAdd(xv, TLoad.Load8(w1 + i), a1);
            a2 = Vector256.FusedMultiplyAdd(xv, TLoad.Load8(w2 + i), a2);
            a3 = Vector256.FusedMultiplyAdd(xv, TLoad.Load8(w3 + i), a3);
            a4 = Vector256.FusedMultiplyAdd(xv, TLoad.Load8(w4 + i), a4);
            a5 = Vector256.FusedMultiplyAdd(xv, TLoad.Load8(w5 + i), a5);
            a6 = Vector256.FusedMultiplyAdd(xv, TLoad.Load8(w6 + i), a6);
            a7 = Vector256.FusedMultiplyAdd(xv, TLoad.Load8(w7 + i), a7);
        }
        int rem = k - i;
        if (rem > 0)
        {
            // One overlapping vector with the already-summed lanes ANDed to zero (see GemvKernel512).
            var mask = Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(TailMasks), (nuint)rem).AsSingle();
            int t = k - Width;
            var xv = Vector256.Load(x + t) & mask;
            a0 = Vector256.FusedMultiplyAdd(xv, TLoad.Load8(w0 + t) & mask, a0);
            a1 = Vector256.FusedMultiplyAdd(xv, TLoad.Load8(w1 + t) & mask, a1);
            a2 = Vector256.FusedMultiplyAdd(xv, TLoad.Load8(w2 + t) & mask, a2);
            a3 = Vector256.FusedMultiplyAdd(xv, TLoad.Load8(w3 + t) & mask, a3);
            a4 = Vector256.FusedMultiplyAdd(xv, TLoad.Load8(w4 + t) & mask, a4);
            a5 = Vector256.FusedMultiplyAdd(xv, TLoad.Load8(w5 + t) & mask, a5);
            a6 = Vector256.FusedMultiplyAdd(xv, TLoad.Load8(w6 + t) & mask, a6);
            a7 = Vector256.FusedMultiplyAdd(xv, TLoad.Load8(w7 + t) & mask, a7);
        }
        return Sum8(a0, a1, a2, a3, a4, a5, a6, a7);
    }

    /// <summary>Same contract as <see cref="Dot8{T, TLoad}"/> for any K (the short rows below one vector), in scalar FMAs.</summary>
    public static Vector256<float> Dot8Scalar<T, TLoad>(float* x, T* w, long ldw, int rows, int k)
        where T : unmanaged
        where TLoad : struct, IGemmLoad<T>
    {
        var sums = Vector256<float>.Zero;
        for (int r = 0; r < 8; r++)
        {
            T* wr = w + Math.Min(r, rows - 1) * ldw;
            float s = 0;
            for (int i = 0; i < k; i++) s = MathF.FusedMultiplyAdd(x[i], TLoad.Load1(wr + i), s);
            sums = sums.WithElement(r, s);
        }
        return sums;
    }

    /// <summary>The lane sums of eight vectors: lane r of the result is the sum of the lanes of <paramref name="a0"/> + r.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sum8(Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3,
        Vector256<float> a4, Vector256<float> a5, Vector256<float> a6, Vector256<float> a7)
    {
        if (Avx.IsSupported)
        {
            // hadd(hadd(a0, a1), hadd(a2, a3)) holds the sums of rows 0-3 over each 128-bit half: [lo 0..3 | hi 0..3].
            var s0123 = Avx.HorizontalAdd(Avx.HorizontalAdd(a0, a1), Avx.HorizontalAdd(a2, a3));
            var s4567 = Avx.HorizontalAdd(Avx.HorizontalAdd(a4, a5), Avx.HorizontalAdd(a6, a7));
            return Avx.Permute2x128(s0123, s4567, 0x20) + Avx.Permute2x128(s0123, s4567, 0x31);
        }
        return Vector256.Create(Vector256.Sum(a0), Vector256.Sum(a1), Vector256.Sum(a2), Vector256.Sum(a3),
            Vector256.Sum(a4), Vector256.Sum(a5), Vector256.Sum(a6), Vector256.Sum(a7));
    }
}
