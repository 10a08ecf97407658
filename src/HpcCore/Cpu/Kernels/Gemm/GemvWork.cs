// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The matrix-vector GEMM (a decoder's one-row linear layers: x [M <= 4, K] times W^T, W [N, K] row-major) as a
// worker-pool job. The general path's per-call set-up (tiling, renting and packing B, an 8-row register tile of
// which 7 rows are padding) costs more than the product itself at M = 1; here W is read once, in place, eight rows
// at a time (GemvKernel512/GemvKernel256), and each x row is multiplied by the eight rows while they are in L1.
// Items are runs of whole 8-row groups of one batch item, so every output element is computed by one thread in
// a fixed order whatever the thread count or the split: results are bitwise identical on 1 or N threads.
// A split makes one item per thread, not several: the caller claims item 0 first and a spinning worker the next,
// so from call to call each thread reads the same rows and finds them in its own caches. With four items per thread
// the rows a core read changed every call and a 768x768 GEMV ran 2x slower on two threads than on one (the two
// cores of our VM do not share a last-level cache); one item per thread made it 1.87x faster than one thread.
// W may be BF16 (weights at half the bytes): the loops and kernels are generic over how W is read (GemmLoads.cs), so
// BF16 rows are widened to F32 as they are loaded and everything after the load is the F32 path's, bit for bit.
namespace HpcCore.Cpu;

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

/// <summary>Which <c>Dot8</c> kernel a GEMV uses (by ISA and K: each needs K of at least its vector width).</summary>
internal enum GemvKernel
{
    /// <summary>K below 8: <see cref="GemvKernel256.Dot8Scalar{T, TLoad}"/>.</summary>
    Scalar,

    /// <summary><see cref="GemvKernel256.Dot8{T, TLoad}"/>.</summary>
    Vector256,

    /// <summary><see cref="GemvKernel512.Dot8{T, TLoad}"/>.</summary>
    Vector512,
}

/// <summary>One matrix-vector GEMM (all batches) as a zero-allocation parallel body over runs of output rows.</summary>
internal unsafe struct GemvWork : IParallelBody
{
    /// <summary>Largest M (rows of x per batch item) the GEMV path takes; larger M goes to the general GEMM.</summary>
    public const int MaxRows = 4;

    /// <summary>Weight rows per kernel call.</summary>
    public const int GroupRows = 8;

    /// <summary>
    /// Below this many multiply-adds a GEMV runs on the calling thread. Measured on 2 Zen 5 cores (worker awake,
    /// one item per thread): 64K-131K multiply-adds (256x256, 512x256, 172x768) lost or broke even split in two,
    /// 147K (384x384) gained ~9%, 262K (512x512) 1.36x, 590K (768x768) 1.87x.
    /// </summary>
    public const long ParallelMinMacs = 1L << 18;

    /// <summary>x (unit stride along K), C, and Bias (null when absent).</summary>
    public float* X, C, Bias;

    /// <summary>W ([N, K] per batch item, unit stride along K): F32, or BF16 when <see cref="WBf16"/>.</summary>
    public void* W;

    /// <summary>Whether <see cref="W"/> holds BF16 (widened to F32 on load) rather than F32.</summary>
    public bool WBf16;

    public long BatchStrideX, Ldx, BatchStrideW, Ldw, BatchStrideC, Ldc;
    public int M, N, K;
    public float Alpha, Beta;
    public GemvKernel Kernel;

    /// <summary>Items per batch item and the 8-row groups in each (the last item of a batch item may have fewer).</summary>
    public int Chunks, ChunkGroups;

    /// <inheritdoc/>
    public readonly void Invoke(int index)
    {
        int b = index / Chunks, chunk = index % Chunks;
        int j0 = chunk * ChunkGroups * GroupRows;
        Rows(b, j0, Math.Min(N, j0 + ChunkGroups * GroupRows));
    }

    // Output columns [j0, j1) of every x row of batch item b, with the loop specialised for W's dtype.
    private readonly void Rows(int b, int j0, int j1)
    {
        if (WBf16) Rows<ushort, Bf16Load>((ushort*)W + b * BatchStrideW, b, j0, j1);
        else Rows<float, F32Load>((float*)W + b * BatchStrideW, b, j0, j1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private readonly void Rows<T, TLoad>(T* w, int b, int j0, int j1)
        where T : unmanaged
        where TLoad : struct, IGemmLoad<T>
    {
        float* x = X + b * BatchStrideX;
        float* c = C + b * BatchStrideC;
        // One loop per kernel (the choice is per call, not per group).
        if (Kernel == GemvKernel.Vector512)
        {
            for (int j = j0; j < j1; j += GroupRows)
            {
                int rows = Math.Min(GroupRows, j1 - j);
                T* wj = w + j * Ldw;
                float* bias = Bias == null ? null : Bias + j;
                for (int i = 0; i < M; i++) Store(GemvKernel512.Dot8<T, TLoad>(x + i * Ldx, wj, Ldw, rows, K), rows, c + i * Ldc + j, bias);
            }
            return;
        }
        for (int j = j0; j < j1; j += GroupRows)
        {
            int rows = Math.Min(GroupRows, j1 - j);
            T* wj = w + j * Ldw;
            float* bias = Bias == null ? null : Bias + j;
            for (int i = 0; i < M; i++)
            {
                float* xi = x + i * Ldx;
                var sums = Kernel == GemvKernel.Vector256 ? GemvKernel256.Dot8<T, TLoad>(xi, wj, Ldw, rows, K) : GemvKernel256.Dot8Scalar<T, TLoad>(xi, wj, Ldw, rows, K);
                Store(sums, rows, c + i * Ldc + j, bias);
            }
        }
    }

    // The general path's epilogue, fused the same way (GemmMicroKernel512.Store): fma(sum, alpha, bias), then
    // fma(C, beta, that) only when beta is not 0, so C is never read for beta = 0 (NaN there does not propagate).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void Store(Vector256<float> sums, int rows, float* c, float* bias)
    {
        if (rows == GroupRows)
        {
            var v = Vector256.FusedMultiplyAdd(sums, Vector256.Create(Alpha), bias == null ? default : Vector256.Load(bias));
            if (Beta != 0) v = Vector256.FusedMultiplyAdd(Vector256.Load(c), Vector256.Create(Beta), v);
            Vector256.Store(v, c);
            return;
        }
        StorePartial(sums, rows, c, bias);
    }

    private readonly void StorePartial(Vector256<float> sums, int rows, float* c, float* bias)
    {
        for (int r = 0; r < rows; r++)
        {
            float v = MathF.FusedMultiplyAdd(sums.GetElement(r), Alpha, bias == null ? 0f : bias[r]);
            if (Beta != 0) v = MathF.FusedMultiplyAdd(c[r], Beta, v);
            c[r] = v;
        }
    }
}
