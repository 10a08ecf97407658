// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The AVX-512 GEMM micro-kernel: an 8x32 register tile (16 zmm accumulators), the BLIS "micro-kernel" of
// Van Zee & van de Geijn, "BLIS: A Framework for Rapidly Instantiating BLAS Functionality" (2015). B comes packed
// (k-major, 32 wide); A is read in place as 8 row streams (pointer + lda), broadcasting A[i, k] straight from the
// caller's rows as ONNX Runtime's MLAS SGEMM kernels do: row-major A needs no packing, since each row is read
// sequentially in k and the 8 streams stay in L1 while the kernel walks the B panels of a block. Why 8x32: each k step is 2 vector loads of B, 8 broadcasts of A and 16 FMAs, so the two FMA pipes of
// a Zen 4/5 core stay full (16 independent accumulators cover the 4-cycle FMA latency twice over) while the A
// stream needs only 32 bytes per 16 FMAs. A probe measured 6x32 to 14x32 all at ~205 GFLOP/s per core from
// L1/L2; 8 rows keeps the padding of odd M small (197 rows -> 200).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HpcCore.Cpu;

/// <summary>Vector512 micro-kernel: C[8, 32] = alpha * A[8, kc] @ Bp[kc, 32] + beta * C + bias.</summary>
internal static unsafe class GemmMicroKernel512
{
    /// <summary>Rows of the register tile (A panel width).</summary>
    public const int MR = 8;

    /// <summary>Columns of the register tile (B panel width): two Vector512.</summary>
    public const int NR = 32;

    /// <summary>Floats in a 64-byte cache line: the unit of <see cref="Run"/>'s prefetch.</summary>
    public const int LineFloats = 16;

    /// <summary>Cache lines in a packed panel of <paramref name="kc"/> k steps ([kc, NR] floats).</summary>
    public static int PanelLines(int kc) => kc * NR / LineFloats;

    /// <summary>
    /// Multiplies the row-major A block at <paramref name="a"/> (row stride <paramref name="lda"/>; only the first
    /// <paramref name="rows"/> rows are read, later rows repeat the last one so nothing past the matrix is touched)
    /// by the packed panel <paramref name="b"/> [kc, NR] and writes the full 8x32 tile at <paramref name="c"/> (row
    /// stride <paramref name="ldc"/>). When <paramref name="beta"/> is 0, C is not read; <paramref name="bias"/>
    /// (32 values, or null) is added per column. <paramref name="prefetchLines"/> cache lines from
    /// <paramref name="prefetch"/> on are prefetched into L2 while the panel is read: one line per k step, two once
    /// there are more lines than steps (at most 2 kc: one panel of the same shape).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* a, long lda, int rows, float* b, int kc, float* c, long ldc, float alpha, float beta,
        float* bias, float* prefetch = null, int prefetchLines = 0)
    {
        // Lines a step and steps that prefetch: the loop tests one counter, so a call without prefetch pays a compare.
        int prefetchStep = prefetchLines > kc ? 2 * LineFloats : LineFloats;
        int prefetchSteps = prefetchLines > kc ? (prefetchLines + 1) / 2 : prefetchLines;
        float* a0 = a;
        float* a1 = a0 + (rows > 1 ? lda : 0);
        float* a2 = a1 + (rows > 2 ? lda : 0);
        float* a3 = a2 + (rows > 3 ? lda : 0);
        float* a4 = a3 + (rows > 4 ? lda : 0);
        float* a5 = a4 + (rows > 5 ? lda : 0);
        float* a6 = a5 + (rows > 6 ? lda : 0);
        float* a7 = a6 + (rows > 7 ? lda : 0);
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        for (int k = 0; k < kc; k++)
        {
            if (k < prefetchSteps)
            {
                Sse.Prefetch1(prefetch);
                Sse.Prefetch1(prefetch + prefetchStep - LineFloats);
                prefetch += prefetchStep;
            }
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var av = Vector512.Create(a0[k]);
            c00 = Vector512.FusedMultiplyAdd(av, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(a1[k]);
            c10 = Vector512.FusedMultiplyAdd(av, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(a2[k]);
            c20 = Vector512.FusedMultiplyAdd(av, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(a3[k]);
            c30 = Vector512.FusedMultiplyAdd(av, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(a4[k]);
            c40 = Vector512.FusedMultiplyAdd(av, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(a5[k]);
            c50 = Vector512.FusedMultiplyAdd(av, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(av, b1, c51);
            av = Vector512.Create(a6[k]);
            c60 = Vector512.FusedMultiplyAdd(av, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(av, b1, c61);
            av = Vector512.Create(a7[k]);
            c70 = Vector512.FusedMultiplyAdd(av, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(av, b1, c71);
            b += NR;
        }
        var al = Vector512.Create(alpha);
        var be = Vector512.Create(beta);
        Vector512<float> bias0 = default, bias1 = default;
        if (bias != null)
        {
            bias0 = Vector512.Load(bias);
            bias1 = Vector512.Load(bias + 16);
        }
        bool readC = beta != 0;
        Store(c, c00, c01, al, be, bias0, bias1, readC);
        Store(c + ldc, c10, c11, al, be, bias0, bias1, readC);
        Store(c + 2 * ldc, c20, c21, al, be, bias0, bias1, readC);
        Store(c + 3 * ldc, c30, c31, al, be, bias0, bias1, readC);
        Store(c + 4 * ldc, c40, c41, al, be, bias0, bias1, readC);
        Store(c + 5 * ldc, c50, c51, al, be, bias0, bias1, readC);
        Store(c + 6 * ldc, c60, c61, al, be, bias0, bias1, readC);
        Store(c + 7 * ldc, c70, c71, al, be, bias0, bias1, readC);
    }

    // The epilogue of one row: alpha * acc (+ beta * C) + bias. A zero bias vector stands in for "no bias".
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* row, Vector512<float> x0, Vector512<float> x1, Vector512<float> alpha,
        Vector512<float> beta, Vector512<float> bias0, Vector512<float> bias1, bool readC)
    {
        x0 = Vector512.FusedMultiplyAdd(x0, alpha, bias0);
        x1 = Vector512.FusedMultiplyAdd(x1, alpha, bias1);
        if (readC)
        {
            x0 = Vector512.FusedMultiplyAdd(Vector512.Load(row), beta, x0);
            x1 = Vector512.FusedMultiplyAdd(Vector512.Load(row + 16), beta, x1);
        }
        Vector512.Store(x0, row);
        Vector512.Store(x1, row + 16);
    }
}
