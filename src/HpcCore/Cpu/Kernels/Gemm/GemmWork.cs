// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The two phases of one GEMM chunk, run as one worker-pool job. Items [0, PackItems) pack every A and B panel of
// the chunk once, shared by all threads (so a 2-core split of either M or N packs nothing twice); the remaining
// items run the BLIS loop nest over C tiles:
// for each KC block, for each NR-wide B panel (kept in L1/L2 across the inner loop), for each MR-high A panel
// (the tile's A block stays in L2), call the register-tile micro-kernel.
// Why one job, not two: the pool hands out items in increasing order, so once any thread holds a tile item every
// pack item is already held by a running thread; a tile item spin-waits on the shared counter of finished pack
// items, which cannot deadlock, and a call costs one worker wake-up instead of two (wake-ups are what a loaded,
// shared machine makes slow).
namespace HpcCore.Cpu;

/// <summary>One GEMM chunk (a batch range and a K range) as a zero-allocation parallel body.</summary>
internal unsafe struct GemmWork : IParallelBody
{
    /// <summary>Operand base pointers (element [0, ...] of each tensor); Bias is null when absent.</summary>
    public float* A, B, C, Bias;

    /// <summary>The pack buffer: all A panels of the chunk, then all B panels.</summary>
    public float* PackA, PackB;

    public bool TransA, TransB, BroadcastB, Use512;
    public float Alpha, Beta;
    public int M, N, Mr, Nr, MPanels, NPanels;
    public long BatchStrideA, BatchStrideB, BatchStrideC, Lda, Ldb, Ldc;

    /// <summary>The chunk: batches [BatchStart, BatchStart + BatchCount), K range [K0, K0 + KLen).</summary>
    public int BatchStart, BatchCount, K0, KLen;

    /// <summary>True for the chunk holding K0 = 0: it applies Beta and Bias; later chunks accumulate.</summary>
    public bool FirstChunk;

    /// <summary>KC: the K block the micro-kernel runs over between C updates.</summary>
    public int Kc;

    /// <summary>C tiling of phase 1: tiles of MTilePanels x NTilePanels register tiles.</summary>
    public int MTilePanels, NTilePanels, MTiles, NTiles;

    /// <summary>Pack items, which come first; tile items follow.</summary>
    public int PackItems;

    /// <summary>Finished pack items (shared counter, zeroed before each job).</summary>
    public int* PacksDone;

    /// <inheritdoc/>
    public readonly void Invoke(int index)
    {
        if (index < PackItems)
        {
            Pack(index);
            Interlocked.Increment(ref *PacksDone);
            return;
        }
        if (Volatile.Read(ref *PacksDone) < PackItems)
        {
            var spin = default(SpinWait);
            while (Volatile.Read(ref *PacksDone) < PackItems) spin.SpinOnce(sleep1Threshold: -1);
        }
        Multiply(index - PackItems);
    }

    private readonly void Pack(int item)
    {
        long aTotal = (long)BatchCount * MPanels;
        var (s, e) = CpuKernels.Range(aTotal, PackItems, item);
        for (long idx = s; idx < e; idx++)
        {
            int b = (int)(idx / MPanels), p = (int)(idx % MPanels);
            float* src = A + (BatchStart + b) * BatchStrideA;
            int i0 = p * Mr, valid = Math.Min(Mr, M - i0);
            float* dst = PackA + idx * Mr * KLen;
            // op(A)(i, k) is at k*lda + i when transposed (rows of K contiguous), i*lda + k otherwise.
            if (TransA) GemmPacking.PackContiguous(src + K0 * Lda + i0, Lda, Mr, valid, KLen, dst);
            else GemmPacking.PackTransposed(src + i0 * Lda + K0, Lda, Mr, valid, KLen, dst);
        }
        long bTotal = (BroadcastB ? 1L : BatchCount) * NPanels;
        (s, e) = CpuKernels.Range(bTotal, PackItems, item);
        for (long idx = s; idx < e; idx++)
        {
            int b = (int)(idx / NPanels), q = (int)(idx % NPanels);
            float* src = BroadcastB ? B : B + (BatchStart + b) * BatchStrideB;
            int j0 = q * Nr, valid = Math.Min(Nr, N - j0);
            float* dst = PackB + idx * Nr * KLen;
            // op(B)(k, j) is at j*ldb + k when transposed (nn.Linear weights), k*ldb + j otherwise.
            if (TransB) GemmPacking.PackTransposed(src + j0 * Ldb + K0, Ldb, Nr, valid, KLen, dst);
            else GemmPacking.PackContiguous(src + K0 * Ldb + j0, Ldb, Nr, valid, KLen, dst);
        }
    }

    private readonly void Multiply(int item)
    {
        int perBatch = MTiles * NTiles;
        int b = item / perBatch, rem = item % perBatch;
        int mt = rem / NTiles, nt = rem % NTiles;
        int p0 = mt * MTilePanels, p1 = Math.Min(MPanels, p0 + MTilePanels);
        int q0 = nt * NTilePanels, q1 = Math.Min(NPanels, q0 + NTilePanels);
        float* aBase = PackA + (long)b * MPanels * Mr * KLen;
        float* bBase = PackB + (BroadcastB ? 0 : (long)b * NPanels * Nr * KLen);
        float* cBase = C + (BatchStart + b) * BatchStrideC;
        // Edge tiles (M or N not a multiple of the register tile) go through this scratch tile.
        float* scratch = stackalloc float[GemmMicroKernel512.MR * GemmMicroKernel512.NR];
        for (int kk = 0; kk < KLen; kk += Kc)
        {
            int kc = Math.Min(Kc, KLen - kk);
            bool first = FirstChunk && kk == 0;
            float beta = first ? Beta : 1f;
            float* bias = first ? Bias : null;
            for (int q = q0; q < q1; q++)
            {
                float* bp = bBase + (long)q * Nr * KLen + (long)kk * Nr;
                int j0 = q * Nr, nValid = Math.Min(Nr, N - j0);
                for (int p = p0; p < p1; p++)
                {
                    float* ap = aBase + (long)p * Mr * KLen + (long)kk * Mr;
                    int i0 = p * Mr, mValid = Math.Min(Mr, M - i0);
                    float* c = cBase + i0 * Ldc + j0;
                    if (mValid == Mr && nValid == Nr)
                    {
                        Kernel(ap, bp, kc, c, Ldc, Alpha, beta, bias == null ? null : bias + j0);
                    }
                    else
                    {
                        Kernel(ap, bp, kc, scratch, Nr, 1f, 0f, null);
                        Edge(scratch, c, mValid, nValid, beta, bias == null ? null : bias + j0);
                    }
                }
            }
        }
    }

    private readonly void Kernel(float* a, float* b, int kc, float* c, long ldc, float alpha, float beta, float* bias)
    {
        if (Use512) GemmMicroKernel512.Run(a, b, kc, c, ldc, alpha, beta, bias);
        else GemmMicroKernel256.Run(a, b, kc, c, ldc, alpha, beta, bias);
    }

    // Scalar epilogue of a partial tile: the same alpha/beta/bias rule as the micro-kernel's, on the valid part.
    private readonly void Edge(float* tile, float* c, int rows, int cols, float beta, float* bias)
    {
        for (int i = 0; i < rows; i++)
        {
            float* t = tile + i * Nr;
            float* row = c + i * Ldc;
            for (int j = 0; j < cols; j++)
            {
                float v = Alpha * t[j];
                if (bias != null) v += bias[j];
                if (beta != 0) v += beta * row[j];
                row[j] = v;
            }
        }
    }
}
