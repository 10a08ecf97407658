// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Best cosine partner without the [N, M] matrix (ToMe's bipartite matching at N = 16384, Bolya et al. 2023): rows
// of A are normalised once, rows of B are normalised and packed into W-wide column panels [C, W] (W = one vector),
// and a register-blocked micro-kernel (MR rows of A x 2 panels, like the GEMM micro-kernels) computes similarity
// tiles that are folded at once into a per-row, per-lane running (max, argmax). Strict ">" in a lane keeps the
// lower column on ties; lanes are merged at the end by (max value, then lowest column). Work items own blocks of
// rows of A and walk B in chunks of panels that stay in L2, so each packed panel is reused by every row block.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace HpcCore.Cpu;

using HpcCore.Kernels;

/// <summary>One best-match call: layout of the pooled scratch, packing and the per-row-block work.</summary>
internal unsafe struct BestMatchWork : IParallelBody
{
    private const int RowBlock = 64;
    private const int ChunkBytes = 128 * 1024;

    public int Batch, N, M, C, Exclude, W, Mr, Panels, FirstPanel, ChunkPanels, RowBlocks;
    public bool Use512;
    public float* A, B, NormA, PackB, State, Max;
    public int* Argmax;

    /// <summary>Floats of pooled scratch the call needs.</summary>
    public readonly long ScratchFloats => (long)Batch * N * C + (long)Batch * Panels * W * C + (long)Items * RowBlock * W * 2;

    /// <summary>Work items of the similarity pass: (batch, row block).</summary>
    public readonly int Items => Batch * RowBlocks;

    /// <summary>Work items of the packing pass: every panel of B, then every row block of A.</summary>
    public readonly int PackItems => Batch * (Panels + RowBlocks);

    public static BestMatchWork Create(in BestMatchArgs a)
    {
        bool use512 = Vector512.IsHardwareAccelerated;
        int w = use512 ? 16 : 8;
        int panels = (a.M + w - 1) / w;
        return new BestMatchWork
        {
            Batch = a.Batch, N = a.N, M = a.M, C = a.C, Exclude = a.ExcludeLeadingColumns, W = w, Mr = use512 ? 8 : 4,
            Use512 = use512, Panels = panels, FirstPanel = a.ExcludeLeadingColumns / w,
            ChunkPanels = Math.Max(2, ChunkBytes / Math.Max(1, a.C * w * sizeof(float)) & ~1),
            RowBlocks = (a.N + RowBlock - 1) / RowBlock,
        };
    }

    public void Bind(float* scratch, float* a, float* b, float* max, int* argmax)
    {
        A = a;
        B = b;
        Max = max;
        Argmax = argmax;
        NormA = scratch;
        PackB = NormA + (long)Batch * N * C;
        State = PackB + (long)Batch * Panels * W * C;
    }

    /// <summary>Packing item: a normalised, zero-padded panel of B, or a block of normalised rows of A.</summary>
    public readonly void Pack(int item)
    {
        if (item < Batch * Panels)
        {
            int b = item / Panels, p = item % Panels;
            float* dst = PackB + ((long)b * Panels + p) * W * C;
            for (int w = 0; w < W; w++)
            {
                int j = p * W + w;
                if (j >= M)
                {
                    for (int c = 0; c < C; c++) dst[c * W + w] = 0f;
                    continue;
                }
                float* row = B + ((long)b * M + j) * C;
                float inv = CpuKernels.InverseNorm(row, C);
                for (int c = 0; c < C; c++) dst[c * W + w] = row[c] * inv;
            }
            return;
        }
        item -= Batch * Panels;
        int bb = item / RowBlocks, r0 = item % RowBlocks * RowBlock, r1 = Math.Min(N, r0 + RowBlock);
        for (int r = r0; r < r1; r++)
        {
            float* src = A + ((long)bb * N + r) * C, dst = NormA + ((long)bb * N + r) * C;
            float inv = CpuKernels.InverseNorm(src, C);
            for (int c = 0; c < C; c++) dst[c] = src[c] * inv;
        }
    }

    public readonly void Invoke(int item)
    {
        int b = item / RowBlocks, r0 = item % RowBlocks * RowBlock, r1 = Math.Min(N, r0 + RowBlock);
        float* bestV = State + (long)item * RowBlock * W * 2;
        int* bestI = (int*)(bestV + RowBlock * W);
        for (int i = 0; i < RowBlock * W; i++)
        {
            bestV[i] = float.NegativeInfinity;
            bestI[i] = -1;
        }
        float* packB = PackB + (long)b * Panels * W * C;
        for (int p0 = FirstPanel; p0 < Panels; p0 += ChunkPanels)
        {
            int p1 = Math.Min(Panels, p0 + ChunkPanels);
            for (int g = r0; g < r1; g += Mr)
            {
                float* a = NormA + ((long)b * N + g) * C;
                int rows = Math.Min(Mr, r1 - g);
                float* sv = bestV + (g - r0) * W;
                int* si = bestI + (g - r0) * W;
                for (int p = p0; p < p1; p += 2)
                {
                    int pair = Math.Min(2, p1 - p);
                    if (Use512) Tile512(a, rows, packB + (long)p * W * C, pair, p, sv, si);
                    else Tile256(a, rows, packB + (long)p * W * C, pair, p, sv, si);
                }
            }
        }
        for (int r = r0; r < r1; r++)
        {
            float* v = bestV + (r - r0) * W;
            int* idx = bestI + (r - r0) * W;
            float best = float.NegativeInfinity;
            int arg = -1;
            for (int l = 0; l < W; l++)
            {
                if (idx[l] < 0) continue;
                if (arg < 0 || v[l] > best || (v[l] == best && idx[l] < arg))
                {
                    best = v[l];
                    arg = idx[l];
                }
            }
            Max[(long)b * N + r] = best;
            Argmax[(long)b * N + r] = arg;
        }
    }

    // 8 rows x 2 panels of 16 columns; rows beyond `rows` repeat the last row and are not stored.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private readonly void Tile512(float* a, int rows, float* panel, int pair, int p, float* sv, int* si)
    {
        long c = C;
        float* a0 = a, a1 = a0 + (rows > 1 ? c : 0), a2 = a1 + (rows > 2 ? c : 0), a3 = a2 + (rows > 3 ? c : 0);
        float* a4 = a3 + (rows > 4 ? c : 0), a5 = a4 + (rows > 5 ? c : 0), a6 = a5 + (rows > 6 ? c : 0), a7 = a6 + (rows > 7 ? c : 0);
        float* q0 = panel, q1 = panel + (pair > 1 ? 16 * c : 0);
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int k = 0; k < C; k++)
        {
            var b0 = Vector512.Load(q0 + k * 16);
            var b1 = Vector512.Load(q1 + k * 16);
            var x = Vector512.Create(a0[k]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a1[k]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a2[k]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a3[k]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a4[k]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a5[k]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a6[k]);
            c60 = Vector512.FusedMultiplyAdd(x, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a7[k]);
            c70 = Vector512.FusedMultiplyAdd(x, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
        }
        Fold512(c00, c01, pair, p, sv, si);
        if (rows > 1) Fold512(c10, c11, pair, p, sv + 16, si + 16);
        if (rows > 2) Fold512(c20, c21, pair, p, sv + 32, si + 32);
        if (rows > 3) Fold512(c30, c31, pair, p, sv + 48, si + 48);
        if (rows > 4) Fold512(c40, c41, pair, p, sv + 64, si + 64);
        if (rows > 5) Fold512(c50, c51, pair, p, sv + 80, si + 80);
        if (rows > 6) Fold512(c60, c61, pair, p, sv + 96, si + 96);
        if (rows > 7) Fold512(c70, c71, pair, p, sv + 112, si + 112);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void Fold512(Vector512<float> s0, Vector512<float> s1, int pair, int p, float* sv, int* si)
    {
        var v = Vector512.Load(sv);
        var i = Vector512.Load(si);
        Update512(ref v, ref i, s0, p);
        if (pair > 1) Update512(ref v, ref i, s1, p + 1);
        v.Store(sv);
        i.Store(si);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void Update512(ref Vector512<float> best, ref Vector512<int> arg, Vector512<float> s, int p)
    {
        var j = Vector512<int>.Indices + Vector512.Create(p * 16);
        if (p * 16 < Exclude || p * 16 + 16 > M)
        {
            var valid = Vector512.GreaterThanOrEqual(j, Vector512.Create(Exclude)) & Vector512.LessThan(j, Vector512.Create(M));
            s = Vector512.ConditionalSelect(valid.AsSingle(), s, Vector512.Create(float.NegativeInfinity));
        }
        var take = Vector512.GreaterThan(s, best);
        best = Vector512.ConditionalSelect(take, s, best);
        arg = Vector512.ConditionalSelect(take.AsInt32(), j, arg);
    }

    // 4 rows x 2 panels of 8 columns (AVX2 has 16 registers: 8 accumulators, 2 panel rows, broadcasts).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private readonly void Tile256(float* a, int rows, float* panel, int pair, int p, float* sv, int* si)
    {
        long c = C;
        float* a0 = a, a1 = a0 + (rows > 1 ? c : 0), a2 = a1 + (rows > 2 ? c : 0), a3 = a2 + (rows > 3 ? c : 0);
        float* q0 = panel, q1 = panel + (pair > 1 ? 8 * c : 0);
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        for (int k = 0; k < C; k++)
        {
            var b0 = Vector256.Load(q0 + k * 8);
            var b1 = Vector256.Load(q1 + k * 8);
            var x = Vector256.Create(a0[k]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a1[k]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a2[k]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a3[k]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
        }
        Fold256(c00, c01, pair, p, sv, si);
        if (rows > 1) Fold256(c10, c11, pair, p, sv + 8, si + 8);
        if (rows > 2) Fold256(c20, c21, pair, p, sv + 16, si + 16);
        if (rows > 3) Fold256(c30, c31, pair, p, sv + 24, si + 24);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void Fold256(Vector256<float> s0, Vector256<float> s1, int pair, int p, float* sv, int* si)
    {
        var v = Vector256.Load(sv);
        var i = Vector256.Load(si);
        Update256(ref v, ref i, s0, p);
        if (pair > 1) Update256(ref v, ref i, s1, p + 1);
        v.Store(sv);
        i.Store(si);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void Update256(ref Vector256<float> best, ref Vector256<int> arg, Vector256<float> s, int p)
    {
        var j = Vector256<int>.Indices + Vector256.Create(p * 8);
        if (p * 8 < Exclude || p * 8 + 8 > M)
        {
            var valid = Vector256.GreaterThanOrEqual(j, Vector256.Create(Exclude)) & Vector256.LessThan(j, Vector256.Create(M));
            s = Vector256.ConditionalSelect(valid.AsSingle(), s, Vector256.Create(float.NegativeInfinity));
        }
        var take = Vector256.GreaterThan(s, best);
        best = Vector256.ConditionalSelect(take, s, best);
        arg = Vector256.ConditionalSelect(take.AsInt32(), j, arg);
    }
}

/// <summary>The packing pass of a <see cref="BestMatchWork"/>.</summary>
internal unsafe struct BestMatchPackBody : IParallelBody
{
    public BestMatchWork Work;

    public readonly void Invoke(int index) => Work.Pack(index);
}
