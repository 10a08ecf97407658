// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Best cosine partner without the [N, M] matrix (ToMe's bipartite matching at N = 16384, Bolya et al. 2023): rows of
// A are normalised once, rows of B are normalised and packed into NR-wide panels [C, NR] (the GEMM micro-kernel's
// packed-B layout), and each work item (a block of RowBlock rows of A) computes its similarities one column chunk
// at a time into a small scratch tile with the GEMM micro-kernels (KC-blocked over C, so a B block stays in L2 and
// the panel in L1, as in GotoBLAS), then folds the tile into a per-row, per-lane running (max, argmax). Strict ">"
// in a lane keeps the lower column on ties (a lane sees its columns in increasing order); lanes are merged at the
// end by (max value, then lowest column). NaN similarities never win. Only RowBlock x chunk floats of similarities
// exist at any time. Deterministic: a row's result never depends on the thread count.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace HpcCore.Cpu;

using HpcCore.Kernels;

/// <summary>One best-match call: layout of the pooled scratch, packing and the per-row-block work.</summary>
internal unsafe struct BestMatchWork : IParallelBody
{
    // A multiple of both micro-kernels' MR (8 and 6).
    private const int RowBlock = 48;
    private const int ChunkBytes = 512 * 1024; // a B block in L2, like GemmBlocking.PackBlockBytes

    public int Batch, N, M, C, Exclude, Nr, Mr, Kc, Panels, FirstPanel, ChunkPanels, RowBlocks;
    public bool Use512;
    public float* A, B, NormA, PackB, Scratch, Max;
    public int* Argmax;

    /// <summary>Work items of the similarity pass: (batch, row block).</summary>
    public readonly int Items => Batch * RowBlocks;

    /// <summary>Work items of the packing pass: every panel of B, then every row block of A.</summary>
    public readonly int PackItems => Batch * (Panels + RowBlocks);

    /// <summary>Floats of per-item scratch: the similarity tile and the running (max, argmax) lanes.</summary>
    private readonly long ItemFloats => (long)RowBlock * ChunkPanels * Nr + 2L * RowBlock * Nr;

    /// <summary>Floats of pooled scratch the call needs.</summary>
    public readonly long ScratchFloats => (long)Batch * N * C + (long)Batch * Panels * Nr * C + Items * ItemFloats;

    /// <summary>True when the problem is too small to be worth waking the workers.</summary>
    public readonly bool Small => 2L * Batch * N * M * Math.Max(1, C) < GemmBlocking.ParallelMinFlops;

    public static BestMatchWork Create(in BestMatchArgs a)
    {
        bool use512 = Vector512.IsHardwareAccelerated;
        int nr = use512 ? GemmMicroKernel512.NR : GemmMicroKernel256.NR;
        int kc = GemmBlocking.Kc(a.C);
        int panels = (a.M + nr - 1) / nr, firstPanel = a.ExcludeLeadingColumns / nr;
        // A chunk is at most the panels there are: with small C, ChunkBytes alone would size every item's tile for
        // thousands of columns (1.5 MB per 48 rows at C = 16), most of it never touched.
        int chunkPanels = Math.Clamp(ChunkBytes / (nr * kc * sizeof(float)), 1, Math.Max(1, panels - firstPanel));
        return new BestMatchWork
        {
            Batch = a.Batch, N = a.N, M = a.M, C = a.C, Exclude = a.ExcludeLeadingColumns, Nr = nr,
            Mr = use512 ? GemmMicroKernel512.MR : GemmMicroKernel256.MR, Kc = kc, Use512 = use512,
            Panels = panels, FirstPanel = firstPanel, ChunkPanels = chunkPanels,
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
        Scratch = PackB + (long)Batch * Panels * Nr * C;
    }

    /// <summary>Packing item: a normalised, zero-padded panel of B, or a block of normalised rows of A.</summary>
    public readonly void Pack(int item)
    {
        if (item < Batch * Panels)
        {
            int b = item / Panels, p = item % Panels;
            float* dst = PackB + ((long)b * Panels + p) * Nr * C;
            for (int w = 0; w < Nr; w++)
            {
                int j = p * Nr + w;
                if (j >= M)
                {
                    for (int c = 0; c < C; c++) dst[c * Nr + w] = 0f;
                    continue;
                }
                float* row = B + ((long)b * M + j) * C;
                float inv = CpuKernels.InverseNorm(row, C);
                for (int c = 0; c < C; c++) dst[c * Nr + w] = row[c] * inv;
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
        int ldc = ChunkPanels * Nr;
        float* tile = Scratch + item * ItemFloats;
        float* bestV = tile + (long)RowBlock * ldc;
        int* bestI = (int*)(bestV + RowBlock * Nr);
        for (int i = 0; i < RowBlock * Nr; i++)
        {
            bestV[i] = float.NegativeInfinity;
            bestI[i] = -1;
        }
        float* packB = PackB + (long)b * Panels * Nr * C;
        float* a = NormA + ((long)b * N + r0) * C;
        for (int p0 = FirstPanel; p0 < Panels; p0 += ChunkPanels)
        {
            int p1 = Math.Min(Panels, p0 + ChunkPanels);
            if (C == 0) new Span<float>(tile, RowBlock * ldc).Clear(); // empty rows: every cosine is 0
            for (int kb = 0; kb < C; kb += Kc)
            {
                int kc = Math.Min(Kc, C - kb);
                float beta = kb == 0 ? 0f : 1f;
                for (int g = 0; g < r1 - r0; g += Mr)
                {
                    int rows = Math.Min(Mr, r1 - r0 - g);
                    for (int p = p0; p < p1; p++)
                    {
                        float* panel = packB + (long)p * Nr * C + (long)kb * Nr;
                        float* c = tile + (long)g * ldc + (p - p0) * Nr;
                        if (Use512) GemmMicroKernel512.Run(a + (long)g * C + kb, C, rows, panel, kc, c, ldc, 1f, beta, null);
                        else GemmMicroKernel256.Run(a + (long)g * C + kb, C, rows, panel, kc, c, ldc, 1f, beta, null);
                    }
                }
            }
            for (int r = 0; r < r1 - r0; r++)
                for (int p = p0; p < p1; p++)
                    Fold(tile + (long)r * ldc + (p - p0) * Nr, p * Nr, bestV + r * Nr, bestI + r * Nr);
        }
        for (int r = r0; r < r1; r++)
        {
            float* v = bestV + (r - r0) * Nr;
            int* idx = bestI + (r - r0) * Nr;
            float best = float.NegativeInfinity;
            int arg = -1;
            for (int l = 0; l < Nr; l++)
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

    // Folds the Nr similarities of columns j0.. j0+Nr-1 into a row's lanes, 8 at a time.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void Fold(float* s, int j0, float* bestV, int* bestI)
    {
        bool edge = j0 < Exclude || j0 + Nr > M;
        for (int h = 0; h < Nr; h += 8)
        {
            var v = Vector256.Load(s + h);
            var j = Vector256<int>.Indices + Vector256.Create(j0 + h);
            if (edge)
            {
                var valid = Vector256.GreaterThanOrEqual(j, Vector256.Create(Exclude)) & Vector256.LessThan(j, Vector256.Create(M));
                v = Vector256.ConditionalSelect(valid.AsSingle(), v, Vector256.Create(float.NegativeInfinity));
            }
            var best = Vector256.Load(bestV + h);
            var take = Vector256.GreaterThan(v, best);
            Vector256.ConditionalSelect(take, v, best).Store(bestV + h);
            Vector256.ConditionalSelect(take.AsInt32(), j, Vector256.Load(bestI + h)).Store(bestI + h);
        }
    }
}

/// <summary>The packing pass of a <see cref="BestMatchWork"/>.</summary>
internal unsafe struct BestMatchPackBody : IParallelBody
{
    public BestMatchWork Work;

    public readonly void Invoke(int index) => Work.Pack(index);
}
