// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The two register-blocked products of a fused attention tile, with the queries of the tile in vector lanes
// (32 queries = two Vector512). Scores are kept transposed, S^T [keys, 32 queries], so every softmax step (row
// max, rescale, sum) is a vertical vector op with no horizontal reduction, and both products have the 8x32 shape
// of the GEMM micro-kernel (GemmMicroKernel512: 8 broadcasts + 2 loads per 16 FMAs):
//   S^T[j, :]  = sum_d K[j, d] * Qt[d, :]    (8 keys x 32 queries per call, Qt packed [D, 32], pre-scaled)
//   O^T[d, :]  = alpha * O^T[d, :] + sum_j V[j, d] * P^T[j, :]   (8 head dims x 32 queries per call)
// K and V rows are read in place through row-pointer tables, so strided views and selected-key lists cost no copy.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace HpcCore.Cpu;

/// <summary>The 8x32 score and value micro-kernels of the fused attention tile.</summary>
internal static unsafe class AttentionMicroKernels
{
    /// <summary>Queries per tile (vector lanes).</summary>
    public const int Lanes = 32;

    /// <summary>Keys or head dims per micro-kernel call.</summary>
    public const int Rows = 8;

    /// <summary>Writes S^T rows 0..7 at <paramref name="st"/> for the 8 keys at <paramref name="k"/>[0..7], over <paramref name="d"/> dims.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scores(float** k, float* qt, int d, float* st)
    {
        float* k0 = k[0], k1 = k[1], k2 = k[2], k3 = k[3], k4 = k[4], k5 = k[5], k6 = k[6], k7 = k[7];
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        for (int i = 0; i < d; i++)
        {
            var q0 = Vector512.Load(qt);
            var q1 = Vector512.Load(qt + 16);
            var b = Vector512.Create(k0[i]);
            c00 = Vector512.FusedMultiplyAdd(b, q0, c00);
            c01 = Vector512.FusedMultiplyAdd(b, q1, c01);
            b = Vector512.Create(k1[i]);
            c10 = Vector512.FusedMultiplyAdd(b, q0, c10);
            c11 = Vector512.FusedMultiplyAdd(b, q1, c11);
            b = Vector512.Create(k2[i]);
            c20 = Vector512.FusedMultiplyAdd(b, q0, c20);
            c21 = Vector512.FusedMultiplyAdd(b, q1, c21);
            b = Vector512.Create(k3[i]);
            c30 = Vector512.FusedMultiplyAdd(b, q0, c30);
            c31 = Vector512.FusedMultiplyAdd(b, q1, c31);
            b = Vector512.Create(k4[i]);
            c40 = Vector512.FusedMultiplyAdd(b, q0, c40);
            c41 = Vector512.FusedMultiplyAdd(b, q1, c41);
            b = Vector512.Create(k5[i]);
            c50 = Vector512.FusedMultiplyAdd(b, q0, c50);
            c51 = Vector512.FusedMultiplyAdd(b, q1, c51);
            b = Vector512.Create(k6[i]);
            c60 = Vector512.FusedMultiplyAdd(b, q0, c60);
            c61 = Vector512.FusedMultiplyAdd(b, q1, c61);
            b = Vector512.Create(k7[i]);
            c70 = Vector512.FusedMultiplyAdd(b, q0, c70);
            c71 = Vector512.FusedMultiplyAdd(b, q1, c71);
            qt += Lanes;
        }
        c00.Store(st); c01.Store(st + 16);
        c10.Store(st + 32); c11.Store(st + 48);
        c20.Store(st + 64); c21.Store(st + 80);
        c30.Store(st + 96); c31.Store(st + 112);
        c40.Store(st + 128); c41.Store(st + 144);
        c50.Store(st + 160); c51.Store(st + 176);
        c60.Store(st + 192); c61.Store(st + 208);
        c70.Store(st + 224); c71.Store(st + 240);
    }

    /// <summary>
    /// O^T rows d0..d0+7 (at <paramref name="ot"/> + d0 * 32) = alpha * O^T + sum over <paramref name="nk"/> keys of
    /// V[j, d0..d0+7] * P^T[j, :].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Values(float** v, int nk, int d0, float* pt, float* ot, Vector512<float> alpha0, Vector512<float> alpha1)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        for (int j = 0; j < nk; j++)
        {
            float* vp = v[j] + d0;
            var p0 = Vector512.Load(pt);
            var p1 = Vector512.Load(pt + 16);
            var b = Vector512.Create(vp[0]);
            c00 = Vector512.FusedMultiplyAdd(b, p0, c00);
            c01 = Vector512.FusedMultiplyAdd(b, p1, c01);
            b = Vector512.Create(vp[1]);
            c10 = Vector512.FusedMultiplyAdd(b, p0, c10);
            c11 = Vector512.FusedMultiplyAdd(b, p1, c11);
            b = Vector512.Create(vp[2]);
            c20 = Vector512.FusedMultiplyAdd(b, p0, c20);
            c21 = Vector512.FusedMultiplyAdd(b, p1, c21);
            b = Vector512.Create(vp[3]);
            c30 = Vector512.FusedMultiplyAdd(b, p0, c30);
            c31 = Vector512.FusedMultiplyAdd(b, p1, c31);
            b = Vector512.Create(vp[4]);
            c40 = Vector512.FusedMultiplyAdd(b, p0, c40);
            c41 = Vector512.FusedMultiplyAdd(b, p1, c41);
            b = Vector512.Create(vp[5]);
            c50 = Vector512.FusedMultiplyAdd(b, p0, c50);
            c51 = Vector512.FusedMultiplyAdd(b, p1, c51);
            b = Vector512.Create(vp[6]);
            c60 = Vector512.FusedMultiplyAdd(b, p0, c60);
            c61 = Vector512.FusedMultiplyAdd(b, p1, c61);
            b = Vector512.Create(vp[7]);
            c70 = Vector512.FusedMultiplyAdd(b, p0, c70);
            c71 = Vector512.FusedMultiplyAdd(b, p1, c71);
            pt += Lanes;
        }
        float* o = ot + d0 * Lanes;
        Update(o, c00, c01, alpha0, alpha1);
        Update(o + 32, c10, c11, alpha0, alpha1);
        Update(o + 64, c20, c21, alpha0, alpha1);
        Update(o + 96, c30, c31, alpha0, alpha1);
        Update(o + 128, c40, c41, alpha0, alpha1);
        Update(o + 160, c50, c51, alpha0, alpha1);
        Update(o + 192, c60, c61, alpha0, alpha1);
        Update(o + 224, c70, c71, alpha0, alpha1);
    }

    /// <summary>One O^T row (head dim <paramref name="d"/>), for head dims past the last multiple of 8.</summary>
    public static void ValuesRow(float** v, int nk, int d, float* pt, float* ot, Vector512<float> alpha0, Vector512<float> alpha1)
    {
        Vector512<float> c0 = default, c1 = default;
        for (int j = 0; j < nk; j++)
        {
            var b = Vector512.Create(v[j][d]);
            c0 = Vector512.FusedMultiplyAdd(b, Vector512.Load(pt + j * Lanes), c0);
            c1 = Vector512.FusedMultiplyAdd(b, Vector512.Load(pt + j * Lanes + 16), c1);
        }
        Update(ot + d * Lanes, c0, c1, alpha0, alpha1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update(float* o, Vector512<float> c0, Vector512<float> c1, Vector512<float> a0, Vector512<float> a1)
    {
        Vector512.FusedMultiplyAdd(Vector512.Load(o), a0, c0).Store(o);
        Vector512.FusedMultiplyAdd(Vector512.Load(o + 16), a1, c1).Store(o + 16);
    }
}
