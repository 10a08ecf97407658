// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// GEMM: the GotoBLAS/BLIS algorithm (Goto & van de Geijn, TOMS 2008; Van Zee & van de Geijn, TOMS 2015).
// Operands are packed into k-major panels (Gemm/GemmPacking.cs) in a pooled buffer, then a register-blocked
// micro-kernel (Gemm/GemmMicroKernel512.cs: 8x32 Vector512; Gemm/GemmMicroKernel256.cs: 6x16 Vector256 fallback)
// runs over cache blocks (Gemm/GemmBlocking.cs) on the worker pool (Gemm/GemmWork.cs). Odd sizes are handled by
// zero-padded panels plus a scalar epilogue on edge tiles. Steady state allocates nothing: the pack buffer is
// rented from the backend's memory pool and returned after each call.
namespace HpcCore.Cpu;

using System.Runtime.Intrinsics;
using HpcCore.Kernels;

internal sealed unsafe partial class CpuKernels
{
    private static readonly bool GemmUse512 = Vector512.IsHardwareAccelerated;

    public void Gemm(in GemmArgs a)
    {
        if (a.Batch == 0 || a.M == 0 || a.N == 0) return;
        float* bias = a.Bias is null ? null : Ptr<float>(a.Bias);
        if (a.K == 0)
        {
            GemmScaleOnly(a, bias);
            return;
        }
        int mr = GemmUse512 ? GemmMicroKernel512.MR : GemmMicroKernel256.MR;
        int nr = GemmUse512 ? GemmMicroKernel512.NR : GemmMicroKernel256.NR;
        int mPanels = GemmBlocking.CeilDiv(a.M, mr), nPanels = GemmBlocking.CeilDiv(a.N, nr);
        bool broadcastB = a.BatchStrideB == 0 && a.Batch > 1;

        // Chunking: the whole problem if its panels fit the budget, else batch groups, then K chunks.
        long perBatchPerK = (long)mPanels * mr + (broadcastB ? 0 : (long)nPanels * nr);
        long sharedPerK = broadcastB ? (long)nPanels * nr : 0;
        long groupFit = (GemmBlocking.PackBudgetFloats / a.K - sharedPerK) / perBatchPerK;
        int batchGroup = (int)Math.Clamp(groupFit, 1, a.Batch);
        long perK = batchGroup * perBatchPerK + sharedPerK;
        int kChunk = a.K;
        if (perK * a.K > GemmBlocking.PackBudgetFloats)
            kChunk = (int)Math.Max(GemmBlocking.KcMax, GemmBlocking.PackBudgetFloats / perK / GemmBlocking.KcMax * GemmBlocking.KcMax);
        long aFloats = (long)batchGroup * mPanels * mr * kChunk;
        long bFloats = (broadcastB ? 1L : batchGroup) * nPanels * nr * kChunk;

        long flops = 2L * a.Batch * a.M * a.N * a.K;
        int threads = flops >= GemmBlocking.ParallelMinFlops ? Pool.Threads : 1;
        var memory = _backend.Memory;
        // The first cache line holds the job's shared pack counter; the panels follow, 64-byte aligned.
        byte* buffer = memory.Rent(CpuMemoryPool.Alignment + (aFloats + bFloats) * sizeof(float), out long capacity);
        float* panels = (float*)(buffer + CpuMemoryPool.Alignment);
        try
        {
            var w = new GemmWork
            {
                A = Ptr<float>(a.A), B = Ptr<float>(a.B), C = Ptr<float>(a.C), Bias = bias,
                PackA = panels, PackB = panels + aFloats, PacksDone = (int*)buffer,
                TransA = a.TransA, TransB = a.TransB, BroadcastB = broadcastB, Use512 = GemmUse512,
                Alpha = a.Alpha, Beta = a.Beta, M = a.M, N = a.N, Mr = mr, Nr = nr, MPanels = mPanels, NPanels = nPanels,
                BatchStrideA = a.BatchStrideA, BatchStrideB = a.BatchStrideB, BatchStrideC = a.BatchStrideC,
                Lda = a.Lda, Ldb = a.Ldb, Ldc = a.Ldc,
            };
            for (int b0 = 0; b0 < a.Batch; b0 += batchGroup)
            {
                w.BatchStart = b0;
                w.BatchCount = Math.Min(batchGroup, a.Batch - b0);
                var (mtp, mTiles, ntp, nTiles) = GemmBlocking.Tile(w.BatchCount, mPanels, nPanels, mr, nr, threads);
                (w.MTilePanels, w.MTiles, w.NTilePanels, w.NTiles) = (mtp, mTiles, ntp, nTiles);
                for (int k0 = 0; k0 < a.K; k0 += kChunk)
                {
                    w.K0 = k0;
                    w.KLen = Math.Min(kChunk, a.K - k0);
                    w.FirstChunk = k0 == 0;
                    w.Kc = GemmBlocking.Kc(w.KLen);
                    w.PackItems = threads == 1 ? 1 : 2 * threads;
                    *w.PacksDone = 0;
                    int items = w.PackItems + w.BatchCount * mTiles * nTiles;
                    if (threads > 1) Pool.For(items, w);
                    else for (int i = 0; i < items; i++) w.Invoke(i);
                }
            }
        }
        finally
        {
            memory.Return(buffer, capacity);
        }
    }

    // K = 0: the product is empty, so C = beta * C + bias (C is not read when beta is 0).
    private static void GemmScaleOnly(in GemmArgs a, float* bias)
    {
        float* c = Ptr<float>(a.C);
        for (int b = 0; b < a.Batch; b++)
        {
            for (int i = 0; i < a.M; i++)
            {
                float* row = c + b * a.BatchStrideC + i * a.Ldc;
                for (int j = 0; j < a.N; j++)
                    row[j] = (a.Beta == 0 ? 0f : a.Beta * row[j]) + (bias == null ? 0f : bias[j]);
            }
        }
    }
}
