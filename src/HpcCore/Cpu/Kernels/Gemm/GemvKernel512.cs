// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The AVX-512 matrix-vector kernel: eight dot products of one x row with eight consecutive weight rows (nn.Linear
// layout, unit stride along K), so each 16-float slice of x is loaded once for eight rows and the eight
// accumulators cover the FMA latency. Each k step is 9 loads and 8 FMAs, the least a dot-product GEMV can do
// (one load per weight element); the weight rows stream from memory or L2 in eight sequential streams.
// The K tail is one overlapping vector: the last 16 floats of x and of each row, with the lanes the main loop
// already summed masked to zero by a bitwise AND (so an Inf or NaN there is not counted twice; a multiply by zero
// would turn Inf into NaN). Every row's sum therefore depends only on x, its own weights and K: not on its position
// in the group, the group's position in a thread's range, or the thread count.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace HpcCore.Cpu;

/// <summary>Vector512 GEMV kernel: eight dot products of x [K] with weight rows w [8, K] (row stride ldw).</summary>
internal static unsafe class GemvKernel512
{
    /// <summary>Vector width in floats; the kernel needs K of at least this.</summary>
    public const int Width = 16;

    // 16 zero words then 16 all-ones words: the 16 words from offset r keep the last r lanes.
    private static ReadOnlySpan<uint> TailMasks =>
    [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u,
    ];

    /// <summary>
    /// Returns the dot products of x [<paramref name="k"/>] with the <paramref name="rows"/> (1 to 8) weight rows at
    /// <paramref name="w"/> (row stride <paramref name="ldw"/>), in lanes 0 to rows - 1; later lanes repeat the last
    /// row, so nothing past it is read. Needs <paramref name="k"/> &gt;= <see cref="Width"/>. The weights are
    /// <typeparamref name="T"/> read as F32 by <typeparamref name="TLoad"/> (F32, or BF16 widened: GemmLoads.cs).
    /// </summary>
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
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector512<float> a4 = default, a5 = default, a6 = default, a7 = default;
        int i = 0;
        for (; i <= k - Width; i += Width)
        {
            var xv = Vector512.Load(x + i);
            a0 = Vector512.FusedMultiplyAdd(xv, TLoad.Load16(w0 + i), a0);
            a1 = Vector512.FusedMultiplyAdd(xv, TLoad.Load16(w1 + i), a1);
            a2 = Vector512.FusedMultiplyAdd(xv, TLoad.Load16(w2 + i), a2);
            a3 = Vector512.FusedMultiplyAdd(xv, TLoad.Load16(w3 + i), a3);
            a4 = Vector512.FusedMultiplyAdd(xv, TLoad.Load16(w4 + i), a4);
            a5 = Vector512.FusedMultiplyAdd(xv, TLoad.Load16(w5 + i), a5);
            a6 = Vector512.FusedMultiplyAdd(xv, TLoad.Load16(w6 + i), a6);
            a7 = Vector512.FusedMultiplyAdd(xv, TLoad.Load16(w7 + i), a7);
        }
        int rem = k - i;
        if (rem > 0)
        {
            var mask = Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(TailMasks), (nuint)rem).AsSingle();
            int t = k - Width;
            var xv = Vector512.Load(x + t) & mask;
            a0 = Vector512.FusedMultiplyAdd(xv, TLoad.Load16(w0 + t) & mask, a0);
            a1 = Vector512.FusedMultiplyAdd(xv, TLoad.Load16(w1 + t) & mask, a1);
            a2 = Vector512.FusedMultiplyAdd(xv, TLoad.Load16(w2 + t) & mask, a2);
            a3 = Vector512.FusedMultiplyAdd(xv, TLoad.Load16(w3 + t) & mask, a3);
            a4 = Vector512.FusedMultiplyAdd(xv, TLoad.Load16(w4 + t) & mask, a4);
            a5 = Vector512.FusedMultiplyAdd(xv, TLoad.Load16(w5 + t) & mask, a5);
            a6 = Vector512.FusedMultiplyAdd(xv, TLoad.Load16(w6 + t) & mask, a6);
            a7 = Vector512.FusedMultiplyAdd(xv, TLoad.Load16(w7 + t) & mask, a7);
        }
        return GemvKernel256.Sum8(Fold(a0), Fold(a1), Fold(a2), Fold(a3), Fold(a4), Fold(a5), Fold(a6), Fold(a7));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fold(Vector512<float> v) => v.GetLower() + v.GetUpper();
}
