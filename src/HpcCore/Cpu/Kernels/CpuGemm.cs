// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// GEMM: the GotoBLAS/BLIS algorithm (Goto & van de Geijn, TOMS 2008; Van Zee & van de Geijn, TOMS 2015) with
// ONNX Runtime MLAS's unpacked A. C is split into tiles (Gemm/GemmBlocking.cs) run on the worker pool
// (Gemm/GemmWork.cs); each tile packs its B block per KC step into a per-thread, L2-sized buffer
// (Gemm/GemmPacking.cs) and a register-blocked micro-kernel (Gemm/GemmMicroKernel512.cs: 8x32 Vector512;
// Gemm/GemmMicroKernel256.cs: 6x16 Vector256 fallback) reads A rows in place. Odd sizes are handled by
// zero-padded B panels, clamped A rows and a scalar epilogue on edge tiles. Steady state allocates nothing: the
// pack buffers are rented from the backend's memory pool and returned after each call; their size depends only
// on KC, the tile width and the thread count, so any problem size runs without chunking.
// A weight packed once (PackGemmB: every NR-wide panel of op(B) over all of K, k-major) skips the per-tile packing;
// any KC block of a panel is then a contiguous run the micro-kernel reads in place.
// A matrix-vector product against nn.Linear weights (M <= 4 per batch item, B transposed) skips all of that and
// runs Gemm/GemvWork.cs: W read once in place, eight rows per kernel call, split by output rows when large.
// B may be BF16 (weights; A and C stay F32): the GEMV reads it in place, widening on load, so a decode step streams
// half the weight bytes; the general path widens it while packing, and PackGemmB packs it into F32 panels, so a
// prefill against a packed BF16 weight runs the F32 kernels unchanged (Gemm/GemmLoads.cs).
namespace HpcCore.Cpu;

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using HpcCore.Kernels;
using HpcCore.Tensors;

internal sealed unsafe partial class CpuKernels
{
    private static readonly bool GemmUse512 = Vector512.IsHardwareAccelerated;

    /// <summary>
    /// Whether matrix-vector shapes take the GEMV path (true); tests and benchmarks turn it off on their own backend
    /// to check or time the general path on the same shapes.
    /// </summary>
    internal bool GemvEnabled { get; set; } = true;

    public void Gemm(in GemmArgs a)
    {
        if (a.Batch == 0 || a.M == 0 || a.N == 0) return;
        float* bias = a.Bias is null ? null : Ptr<float>(a.Bias);
        if (a.K == 0 || (a.TransB && a.M <= GemvWork.MaxRows && GemvEnabled))
        {
            if (a.K == 0) GemmScaleOnly(a, bias);
            else Gemv(a, bias);
            // These paths write C in one sweep of a few rows (or none of arithmetic): the activation follows it.
            float* c = Ptr<float>(a.C);
            for (int b = 0; b < a.Batch; b++) GemmActivations.Apply(a.Activation, c + b * a.BatchStrideC, a.M, a.Ldc, a.N);
            return;
        }
        int mr = GemmUse512 ? GemmMicroKernel512.MR : GemmMicroKernel256.MR;
        int nr = GemmUse512 ? GemmMicroKernel512.NR : GemmMicroKernel256.NR;
        int mPanels = GemmBlocking.CeilDiv(a.M, mr), nPanels = GemmBlocking.CeilDiv(a.N, nr);
        int kc = GemmBlocking.Kc(a.K);
        float* packedB = a.PackedB is null ? null : Ptr<float>(a.PackedB);
        // Streaming the pre-packed weights through chunks (GemmWork.MultiplyStreamed) needs no pack buffer, so its tiles
        // may span any number of panels: fewer tiles, fewer cold starts.
        int streamChunk = GemmBlocking.StreamChunk(packedB != null && !a.TransA && GemmUse512, mPanels);
        int maxNPanels = streamChunk > 0 ? nPanels : Math.Max(1, GemmBlocking.PackBlockBytes / sizeof(float) / (kc * nr));

        long flops = 2L * a.Batch * a.M * a.N * a.K;
        int threads = flops >= GemmBlocking.ParallelMinFlops ? Pool.ActiveThreads : 1;
        var (mtp, mTiles, ntp, nTiles) = GemmBlocking.Tile(a.Batch, mPanels, nPanels, maxNPanels, threads);
        int items = a.Batch * mTiles * nTiles;
        int slots = Math.Min(threads, items);

        // One buffer per thread that can run at once: the tile's B block, then (transposed A only) one A panel,
        // each rounded to whole cache lines; the claim flags take the leading cache lines.
        const int lineFloats = CpuMemoryPool.Alignment / sizeof(float);
        long bPackFloats = packedB != null ? 0 : GemmBlocking.CeilDiv((long)ntp * nr * kc, lineFloats) * lineFloats;
        long slotFloats = bPackFloats + (a.TransA ? GemmBlocking.CeilDiv((long)mr * kc, lineFloats) * lineFloats : 0);
        long headerBytes = GemmBlocking.CeilDiv((long)slots * sizeof(int), CpuMemoryPool.Alignment) * CpuMemoryPool.Alignment;
        var memory = _backend.Memory;
        byte* buffer = memory.Rent(headerBytes + slots * slotFloats * sizeof(float), out long capacity);
        try
        {
            new Span<byte>(buffer, (int)headerBytes).Clear();
            var w = new GemmWork
            {
                A = Ptr<float>(a.A), B = Ptr<byte>(a.B), BBf16 = a.B.DType == DType.BF16, C = Ptr<float>(a.C), Bias = bias,
                PackedB = packedB,
                SlotBase = (float*)(buffer + headerBytes), SlotFlags = (int*)buffer, Slots = slots,
                SlotFloats = slotFloats, BPackFloats = bPackFloats,
                TransA = a.TransA, TransB = a.TransB, BroadcastB = a.BatchStrideB == 0 && a.Batch > 1, Use512 = GemmUse512,
                Activation = a.Activation,
                Alpha = a.Alpha, Beta = a.Beta, M = a.M, N = a.N, K = a.K, Mr = mr, Nr = nr,
                MPanels = mPanels, NPanels = nPanels,
                BatchStrideA = a.BatchStrideA, BatchStrideB = a.BatchStrideB, BatchStrideC = a.BatchStrideC,
                Lda = a.Lda, Ldb = a.Ldb, Ldc = a.Ldc, Kc = kc,
                MTilePanels = mtp, MTiles = mTiles, NTilePanels = ntp, NTiles = nTiles, StreamChunk = streamChunk,
            };
            if (slots > 1) Pool.For(items, w);
            else for (int i = 0; i < items; i++) w.Invoke(i);
        }
        finally
        {
            memory.Return(buffer, capacity);
        }
    }

    public Tensor? PackGemmB(in GemmPackArgs a)
    {
        int nr = GemmUse512 ? GemmMicroKernel512.NR : GemmMicroKernel256.NR;
        int nPanels = GemmBlocking.CeilDiv(a.N, nr);
        long floats = checked((long)nPanels * nr * Math.Max(1, a.K));
        var panels = Tensor.Empty(new Shape(checked((int)floats)), DType.F32, _backend);
        var body = new PackBody
        {
            Src = Ptr<byte>(a.B), Bf16 = a.B.DType == DType.BF16, Dst = Ptr<float>(panels),
            TransB = a.TransB, Ldb = a.Ldb, K = a.K, N = a.N, Nr = nr,
        };
        Pool.For(nPanels, body);
        return panels;
    }

    // One NR-wide panel of op(B) over all of K per item: dst[q][k][r] = op(B)(k, q*NR + r), zero past N; a BF16
    // source is widened to F32 panels.
    private struct PackBody : IParallelBody
    {
        public void* Src;
        public float* Dst;
        public bool TransB, Bf16;
        public long Ldb;
        public int K, N, Nr;

        public readonly void Invoke(int q)
        {
            if (Bf16) Pack<ushort, Bf16Load>((ushort*)Src, q);
            else Pack<float, F32Load>((float*)Src, q);
        }

        private readonly void Pack<T, TLoad>(T* src, int q)
            where T : unmanaged
            where TLoad : struct, IGemmLoad<T>
        {
            int j0 = q * Nr, valid = Math.Min(Nr, N - j0);
            float* dst = Dst + (long)q * Nr * K;
            if (TransB) GemmPacking.PackTransposed<T, TLoad>(src + j0 * Ldb, Ldb, Nr, valid, K, dst);
            else GemmPacking.PackContiguous<T, TLoad>(src + j0, Ldb, Nr, valid, K, dst);
        }
    }

    // x [M <= 4, K] times W^T per batch item (B transposed: unit stride along K). Small products run on the calling
    // thread; from GemvWork.ParallelMinMacs multiply-adds the output rows are split across the pool.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Gemv(in GemmArgs a, float* bias)
    {
        float* x = Ptr<float>(a.A);
        long ldx = a.Lda, batchStrideX = a.BatchStrideA;
        // The kernels read x rows with unit stride. A transposed A has stride lda along K (a column of a wider
        // matrix, or a strided view): gathered here, unless it is one row with lda 1, which already is contiguous.
        bool gather = a.TransA && !(a.M == 1 && a.Lda == 1);
        byte* gathered = null;
        long capacity = 0;
        if (gather)
        {
            gathered = _backend.Memory.Rent((long)a.Batch * a.M * a.K * sizeof(float), out capacity);
            float* g = (float*)gathered;
            for (int b = 0; b < a.Batch; b++)
                for (int i = 0; i < a.M; i++)
                {
                    float* src = x + b * a.BatchStrideA + i;
                    float* dst = g + ((long)b * a.M + i) * a.K;
                    for (int k = 0; k < a.K; k++) dst[k] = src[k * a.Lda];
                }
            x = g;
            ldx = a.K;
            batchStrideX = (long)a.M * a.K;
        }
        try
        {
            long macs = (long)a.Batch * a.M * a.N * a.K;
            int threads = macs >= GemvWork.ParallelMinMacs ? Pool.ActiveThreads : 1;
            int groups = GemmBlocking.CeilDiv(a.N, GemvWork.GroupRows);
            // One item per thread (GemvWork): batch items first, output rows split only when the batch is smaller.
            int chunks = threads == 1 ? 1 : Math.Min(groups, GemmBlocking.CeilDiv(threads, a.Batch));
            int chunkGroups = GemmBlocking.CeilDiv(groups, chunks);
            chunks = GemmBlocking.CeilDiv(groups, chunkGroups);
            var w = new GemvWork
            {
                X = x, W = Ptr<byte>(a.B), WBf16 = a.B.DType == DType.BF16, C = Ptr<float>(a.C), Bias = bias,
                BatchStrideX = batchStrideX, Ldx = ldx, BatchStrideW = a.BatchStrideB, Ldw = a.Ldb,
                BatchStrideC = a.BatchStrideC, Ldc = a.Ldc, M = a.M, N = a.N, K = a.K, Alpha = a.Alpha, Beta = a.Beta,
                Kernel = GemmUse512 && a.K >= GemvKernel512.Width ? GemvKernel.Vector512
                    : a.K >= GemvKernel256.Width ? GemvKernel.Vector256 : GemvKernel.Scalar,
                Chunks = chunks, ChunkGroups = chunkGroups,
            };
            int items = a.Batch * chunks;
            if (threads > 1 && items > 1) Pool.For(items, w);
            else for (int i = 0; i < items; i++) w.Invoke(i);
        }
        finally
        {
            if (gathered != null) _backend.Memory.Return(gathered, capacity);
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
