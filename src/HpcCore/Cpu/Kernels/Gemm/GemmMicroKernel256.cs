// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The AVX2 fallback micro-kernel for machines without accelerated Vector512: the classic 6x16 tile of BLIS's
// Haswell kernel (12 ymm accumulators + 2 B vectors + 1 broadcast = 15 of the 16 ymm registers). Like the 512-bit
// kernel it reads A in place as row streams (MLAS style) and B from a packed panel.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace HpcCore.Cpu;

/// <summary>Vector256 micro-kernel: C[6, 16] = alpha * A[6, kc] @ Bp[kc, 16] + beta * C + bias.</summary>
internal static unsafe class GemmMicroKernel256
{
    /// <summary>Rows of the register tile (A panel width).</summary>
    public const int MR = 6;

    /// <summary>Columns of the register tile (B panel width): two Vector256.</summary>
    public const int NR = 16;

    /// <summary>Same contract as <see cref="GemmMicroKernel512.Run"/> for a 6x16 tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* a, long lda, int rows, float* b, int kc, float* c, long ldc, float alpha, float beta,
        float* bias)
    {
        float* a0 = a;
        float* a1 = a0 + (rows > 1 ? lda : 0);
        float* a2 = a1 + (rows > 2 ? lda : 0);
        float* a3 = a2 + (rows > 3 ? lda : 0);
        float* a4 = a3 + (rows > 4 ? lda : 0);
        float* a5 = a4 + (rows > 5 ? lda : 0);
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector256<float> c40 = default, c41 = default, c50 = default, c51 = default;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var av = Vector256.Create(a0[k]);
            c00 = Vector256.FusedMultiplyAdd(av, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(av, b1, c01);
            av = Vector256.Create(a1[k]);
            c10 = Vector256.FusedMultiplyAdd(av, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(av, b1, c11);
            av = Vector256.Create(a2[k]);
            c20 = Vector256.FusedMultiplyAdd(av, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(av, b1, c21);
            av = Vector256.Create(a3[k]);
            c30 = Vector256.FusedMultiplyAdd(av, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(av, b1, c31);
            av = Vector256.Create(a4[k]);
            c40 = Vector256.FusedMultiplyAdd(av, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(av, b1, c41);
            av = Vector256.Create(a5[k]);
            c50 = Vector256.FusedMultiplyAdd(av, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(av, b1, c51);
            b += NR;
        }
        var al = Vector256.Create(alpha);
        var be = Vector256.Create(beta);
        Vector256<float> bias0 = default, bias1 = default;
        if (bias != null)
        {
            bias0 = Vector256.Load(bias);
            bias1 = Vector256.Load(bias + 8);
        }
        bool readC = beta != 0;
        Store(c, c00, c01, al, be, bias0, bias1, readC);
        Store(c + ldc, c10, c11, al, be, bias0, bias1, readC);
        Store(c + 2 * ldc, c20, c21, al, be, bias0, bias1, readC);
        Store(c + 3 * ldc, c30, c31, al, be, bias0, bias1, readC);
        Store(c + 4 * ldc, c40, c41, al, be, bias0, bias1, readC);
        Store(c + 5 * ldc, c50, c51, al, be, bias0, bias1, readC);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* row, Vector256<float> x0, Vector256<float> x1, Vector256<float> alpha,
        Vector256<float> beta, Vector256<float> bias0, Vector256<float> bias1, bool readC)
    {
        x0 = Vector256.FusedMultiplyAdd(x0, alpha, bias0);
        x1 = Vector256.FusedMultiplyAdd(x1, alpha, bias1);
        if (readC)
        {
            x0 = Vector256.FusedMultiplyAdd(Vector256.Load(row), beta, x0);
            x1 = Vector256.FusedMultiplyAdd(Vector256.Load(row + 8), beta, x1);
        }
        Vector256.Store(x0, row);
        Vector256.Store(x1, row + 8);
    }
}
