// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Panel packing (GotoBLAS: Goto & van de Geijn, "Anatomy of High-Performance Matrix Multiplication", TOMS 2008).
// A panel of `width` rows of op(A) (or columns of op(B)) over a K range is stored k-major: element (r, k) at
// dst[k * width + r], so the micro-kernel reads both operands with unit stride whatever the caller's layout,
// transposes and leading dimensions. Rows past the matrix edge are zero-filled so the kernel never branches.
// The source is read through a load struct (GemmLoads.cs): F32, or BF16 weights widened to F32 while packing, so
// the micro-kernels only ever see F32 panels.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HpcCore.Cpu;

/// <summary>Copies strided matrix panels into the k-major layout the micro-kernels read.</summary>
internal static unsafe class GemmPacking
{
    // Transposing packs work on k blocks of this many steps so the destination block (kBlock * width floats,
    // at most 16 KB) stays in L1 while the source rows stream through.
    private const int KBlock = 128;

    /// <summary>
    /// Panel whose k axis is strided: dst[k * width + r] = src[k * ld + r] for r &lt; valid, 0 beyond.
    /// This is op(B) without transpose and op(A) with transpose: each k step is one contiguous run.
    /// </summary>
    public static void PackContiguous<T, TLoad>(T* src, long ld, int width, int valid, int kLen, float* dst)
        where T : unmanaged
        where TLoad : struct, IGemmLoad<T>
    {
        if (valid == width && width == 32 && Vector512.IsHardwareAccelerated)
        {
            for (int k = 0; k < kLen; k++, src += ld, dst += 32)
            {
                Vector512.Store(TLoad.Load16(src), dst);
                Vector512.Store(TLoad.Load16(src + 16), dst + 16);
            }
            return;
        }
        if (valid == width && (width & 7) == 0)
        {
            for (int k = 0; k < kLen; k++, src += ld, dst += width)
                for (int r = 0; r < width; r += 8)
                    Vector256.Store(TLoad.Load8(src + r), dst + r);
            return;
        }
        for (int k = 0; k < kLen; k++, src += ld, dst += width)
        {
            int r = 0;
            for (; r < valid; r++) dst[r] = TLoad.Load1(src + r);
            for (; r < width; r++) dst[r] = 0;
        }
    }

    /// <summary>
    /// Panel whose rows are strided: dst[k * width + r] = src[r * ld + k] for r &lt; valid, 0 beyond.
    /// This is op(A) without transpose and op(B) with transpose (nn.Linear weights): a transposing copy.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackTransposed<T, TLoad>(T* src, long ld, int width, int valid, int kLen, float* dst)
        where T : unmanaged
        where TLoad : struct, IGemmLoad<T>
    {
        for (int k0 = 0; k0 < kLen; k0 += KBlock)
        {
            int kb = Math.Min(KBlock, kLen - k0);
            float* d0 = dst + (long)k0 * width;
            int r = 0;
            if (Avx.IsSupported)
            {
                // Eight rows at a time through an 8x8 register transpose: 8 loads, 24 shuffles, 8 stores per 64 floats.
                int kb8 = kb & ~7;
                for (; r + 8 <= valid; r += 8)
                {
                    T* s = src + r * ld + k0;
                    for (int k = 0; k < kb8; k += 8)
                        Transpose8x8<T, TLoad>(s + k, ld, d0 + (long)k * width + r, width);
                    for (int k = kb8; k < kb; k++)
                        for (int i = 0; i < 8; i++) d0[(long)k * width + r + i] = TLoad.Load1(s + i * ld + k);
                }
            }
            for (; r + 4 <= valid; r += 4)
            {
                T* s0 = src + r * ld + k0, s1 = s0 + ld, s2 = s1 + ld, s3 = s2 + ld;
                float* d = d0 + r;
                for (int k = 0; k < kb; k++, d += width)
                {
                    d[0] = TLoad.Load1(s0 + k);
                    d[1] = TLoad.Load1(s1 + k);
                    d[2] = TLoad.Load1(s2 + k);
                    d[3] = TLoad.Load1(s3 + k);
                }
            }
            for (; r < valid; r++)
            {
                T* s = src + r * ld + k0;
                float* d = d0 + r;
                for (int k = 0; k < kb; k++, d += width) *d = TLoad.Load1(s + k);
            }
            if (valid < width)
            {
                for (int k = 0; k < kb; k++)
                    new Span<float>(d0 + (long)k * width + valid, width - valid).Clear();
            }
        }
    }

    // dst[t * dstStride + i] = src[i * ld + t] for an 8x8 block (RegisterTranspose).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8<T, TLoad>(T* src, long ld, float* dst, int dstStride)
        where T : unmanaged
        where TLoad : struct, IGemmLoad<T>
    {
        var r0 = TLoad.Load8(src);
        var r1 = TLoad.Load8(src + ld);
        var r2 = TLoad.Load8(src + 2 * ld);
        var r3 = TLoad.Load8(src + 3 * ld);
        var r4 = TLoad.Load8(src + 4 * ld);
        var r5 = TLoad.Load8(src + 5 * ld);
        var r6 = TLoad.Load8(src + 6 * ld);
        var r7 = TLoad.Load8(src + 7 * ld);
        RegisterTranspose.Store8x8(r0, r1, r2, r3, r4, r5, r6, r7, dst, dstStride);
    }
}
