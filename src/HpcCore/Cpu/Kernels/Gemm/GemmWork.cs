// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// One GEMM as a worker-pool job: each item is one C tile (a batch, a range of MR-row groups, a range of NR-wide
// panels) and runs the GotoBLAS loop nest over it (Goto & van de Geijn, "Anatomy of High-Performance Matrix
// Multiplication", TOMS 2008):
// for each KC block: pack the tile's B block (KC x NC) into this thread's buffer, where it stays in L2; then for
// each MR-row group of A (read in place, MLAS style, or packed into a small L1 buffer when A is transposed), for
// each NR-wide B panel, call the register-tile micro-kernel.
// Why pack B inside the tile rather than all of it up front: packing then costs one read of B from memory plus a
// write and re-read that hit L2, instead of a full extra write and re-read of B through memory, and there is no
// pack phase for the other threads to wait on. Tiles split C by columns first (GemmBlocking.Tile), so each B
// block is packed by exactly one item. A BF16 B (weights) is widened to F32 by that packing, so the micro-kernels
// and everything after the pack are the F32 path's.
namespace HpcCore.Cpu;

/// <summary>One GEMM (all batches, all of K) as a zero-allocation parallel body.</summary>
internal unsafe struct GemmWork : IParallelBody
{
    /// <summary>Operand base pointers (element [0, ...] of each tensor); Bias is null when absent.</summary>
    public float* A, C, Bias;

    /// <summary>B's base pointer: F32, or BF16 when <see cref="BBf16"/>.</summary>
    public void* B;

    /// <summary>Whether <see cref="B"/> holds BF16 (widened to F32 while packing) rather than F32.</summary>
    public bool BBf16;

    /// <summary>op(B) packed once over all of K (CpuKernels.PackGemmB), or null: each tile packs its B block.</summary>
    public float* PackedB;

    /// <summary>
    /// Per-thread pack buffers: <see cref="Slots"/> buffers of <see cref="SlotFloats"/> floats (the B block, then,
    /// when A is transposed, one MR x KC A panel), and one claim flag per buffer.
    /// </summary>
    public float* SlotBase;

    /// <summary>Claim flags of the pack buffers: 1 while an item uses the buffer.</summary>
    public int* SlotFlags;

    /// <summary>Number of pack buffers (the threads that can run items at once) and the floats in each.</summary>
    public int Slots;

    /// <summary>Floats in one pack buffer; the A panel starts at <see cref="BPackFloats"/>.</summary>
    public long SlotFloats, BPackFloats;

    public bool TransA, TransB, BroadcastB, Use512;

    /// <summary>Applied to each row segment of the tile after its last K block.</summary>
    public HpcCore.Ops.GemmActivation Activation;
    public float Alpha, Beta;
    public int M, N, K, Mr, Nr, MPanels, NPanels;
    public long BatchStrideA, BatchStrideB, BatchStrideC, Lda, Ldb, Ldc;

    /// <summary>KC: the K block packed and multiplied between C updates.</summary>
    public int Kc;

    /// <summary>C tiling: tiles of MTilePanels x NTilePanels register tiles, MTiles x NTiles per batch.</summary>
    public int MTilePanels, NTilePanels, MTiles, NTiles;

    /// <summary>
    /// Panels per streamed chunk over pre-packed B (see <see cref="MultiplyStreamed"/>), or 0 for the row-groups-outer
    /// loop nest.
    /// </summary>
    public int StreamChunk;

    /// <inheritdoc/>
    public readonly void Invoke(int index)
    {
        // At most Slots items run at once (one per pool thread), so a free buffer always exists.
        int slot = 0;
        while (Interlocked.CompareExchange(ref SlotFlags[slot], 1, 0) != 0) slot = (slot + 1) % Slots;
        Multiply(index, SlotBase + slot * SlotFloats);
        Volatile.Write(ref SlotFlags[slot], 0);
    }

    private readonly void Multiply(int item, float* pack)
    {
        if (StreamChunk > 0)
        {
            MultiplyStreamed(item);
            return;
        }
        var (b, p0, p1, q0, q1) = TileOf(item);
        float* aBase = A + b * BatchStrideA;
        long bOffset = BroadcastB ? 0 : b * BatchStrideB;
        float* cBase = C + b * BatchStrideC;
        float* aPack = pack + BPackFloats;
        // Edge tiles (M or N not a multiple of the register tile) go through this scratch tile.
        float* scratch = stackalloc float[GemmMicroKernel512.MR * GemmMicroKernel512.NR];
        for (int kk = 0; kk < K; kk += Kc)
        {
            int kc = Math.Min(Kc, K - kk);
            bool first = kk == 0;
            float beta = first ? Beta : 1f;
            float* bias = first ? Bias : null;
            if (PackedB == null)
            {
                if (BBf16) PackB<ushort, Bf16Load>((ushort*)B + bOffset, q0, q1, kk, kc, pack);
                else PackB<float, F32Load>((float*)B + bOffset, q0, q1, kk, kc, pack);
            }
            for (int p = p0; p < p1; p++)
            {
                int i0 = p * Mr, mValid = Math.Min(Mr, M - i0);
                float* ap = aBase + i0 * Lda + kk;
                long lda = Lda;
                if (TransA)
                {
                    // op(A)(i, k) = A[k*lda + i]: transpose the row group into a row-major MR x kc panel (L1-sized).
                    GemmPacking.PackTransposed<float, F32Load>(aBase + kk * Lda + i0, Lda, kc, kc, mValid, aPack);
                    ap = aPack;
                    lda = kc;
                }
                for (int q = q0; q < q1; q++)
                {
                    float* bp = PackedB != null ? PackedB + ((long)q * K + kk) * Nr : pack + (long)(q - q0) * Nr * kc;
                    int j0 = q * Nr, nValid = Math.Min(Nr, N - j0);
                    float* c = cBase + i0 * Ldc + j0;
                    // The first row group of a tile over pre-packed B walks the weight panels straight from memory (a
                    // batch-1 layer's weights are not in cache), and the hardware prefetcher restarts at each 4 KiB
                    // page: it read them at 11 GB/s at M = 21 where a core copies 28. So that group prefetches the next
                    // panel into L2 while it multiplies this one (M 21: 1.06-1.19x on two threads, 1.08x on one;
                    // M 197: 1.00x; the later groups find the panels in L2).
                    float* next = PackedB != null && p == p0 && q + 1 < q1 ? bp + (long)K * Nr : null;
                    Panel(ap, lda, mValid, bp, kc, c, nValid, beta, bias == null ? null : bias + j0, scratch, next, next == null ? 0 : GemmMicroKernel512.PanelLines(kc));
                }
                if (kk + kc == K)
                {
                    int j0 = q0 * Nr;
                    GemmActivations.Apply(Activation, cBase + i0 * Ldc + j0, mValid, Ldc, Math.Min(N, q1 * Nr) - j0);
                }
            }
        }
    }

    // The loop nest over pre-packed B for a few row groups (small M: ToMe's later layers, short prompts). Row groups
    // outer, the first group's pass over the tile's panels waits on memory (a layer's weights are not in cache at
    // batch 1) while the later groups find them in L2 and read nothing from memory: at M = 21 (three groups) the
    // weights streamed at half of what two cores copy. Here the tile's panels are taken in chunks of StreamChunk: every
    // row group multiplies the chunk (its A rows stay in L1 across the chunk's panels, the chunk in L2), and each call
    // prefetches its share of the next chunk (of this K block, or the first of the next), so the memory stream runs
    // under all of the arithmetic. A of a few row groups stays in L2 across the chunks.
    private readonly void MultiplyStreamed(int item)
    {
        var (b, p0, p1, q0, q1) = TileOf(item);
        float* aBase = A + b * BatchStrideA;
        float* cBase = C + b * BatchStrideC;
        float* scratch = stackalloc float[GemmMicroKernel512.MR * GemmMicroKernel512.NR];
        int groups = p1 - p0;
        for (int kk = 0; kk < K; kk += Kc)
        {
            int kc = Math.Min(Kc, K - kk);
            bool first = kk == 0, last = kk + kc == K;
            float beta = first ? Beta : 1f;
            float* bias = first ? Bias : null;
            for (int qc = q0; qc < q1; qc += StreamChunk)
            {
                int qe = Math.Min(q1, qc + StreamChunk);
                // The chunk after this one: the next panels of this K block, else the first chunk of the next block.
                int nq0 = qe, nkk = kk;
                if (nq0 >= q1) (nq0, nkk) = (q0, kk + kc);
                int nq1 = nkk < K ? Math.Min(q1, nq0 + StreamChunk) : nq0;
                int nextLines = GemmMicroKernel512.PanelLines(Math.Min(Kc, K - nkk)), share = (nextLines + groups - 1) / groups;
                for (int p = p0; p < p1; p++)
                {
                    int i0 = p * Mr, mValid = Math.Min(Mr, M - i0);
                    float* ap = aBase + i0 * Lda + kk;
                    int lineStart = (p - p0) * share, lines = Math.Clamp(nextLines - lineStart, 0, share);
                    for (int q = qc; q < qe; q++)
                    {
                        float* bp = PackedB + ((long)q * K + kk) * Nr;
                        int j0 = q * Nr, nq = nq0 + q - qc;
                        float* next = nq < nq1 ? PackedB + ((long)nq * K + nkk) * Nr + (long)lineStart * GemmMicroKernel512.LineFloats : null;
                        Panel(ap, Lda, mValid, bp, kc, cBase + i0 * Ldc + j0, Math.Min(Nr, N - j0), beta,
                            bias == null ? null : bias + j0, scratch, next, next == null ? 0 : lines);
                    }
                    if (last)
                    {
                        int j0 = qc * Nr;
                        GemmActivations.Apply(Activation, cBase + i0 * Ldc + j0, mValid, Ldc, Math.Min(N, qe * Nr) - j0);
                    }
                }
            }
        }
    }

    // Item -> its batch, row groups [p0, p1) and panels [q0, q1).
    private readonly (int B, int P0, int P1, int Q0, int Q1) TileOf(int item)
    {
        int perBatch = MTiles * NTiles;
        int b = item / perBatch, rem = item % perBatch;
        int mt = rem / NTiles, nt = rem % NTiles;
        int p0 = mt * MTilePanels, q0 = nt * NTilePanels;
        return (b, p0, Math.Min(MPanels, p0 + MTilePanels), q0, Math.Min(NPanels, q0 + NTilePanels));
    }

    // One register tile of C: in place when whole, through the scratch tile and the scalar epilogue at an edge.
    private readonly void Panel(float* ap, long lda, int mValid, float* bp, int kc, float* c, int nValid, float beta,
        float* bias, float* scratch, float* prefetch, int prefetchLines)
    {
        if (mValid == Mr && nValid == Nr)
        {
            Kernel(ap, lda, mValid, bp, kc, c, Ldc, Alpha, beta, bias, prefetch, prefetchLines);
        }
        else
        {
            Kernel(ap, lda, mValid, bp, kc, scratch, Nr, 1f, 0f, null, prefetch, prefetchLines);
            Edge(scratch, c, mValid, nValid, beta, bias);
        }
    }

    // Panels q0 to q1 - 1 of op(B) over K steps [kk, kk + kc) into the tile's pack buffer.
    private readonly void PackB<T, TLoad>(T* bBase, int q0, int q1, int kk, int kc, float* pack)
        where T : unmanaged
        where TLoad : struct, IGemmLoad<T>
    {
        for (int q = q0; q < q1; q++)
        {
            int j0 = q * Nr, valid = Math.Min(Nr, N - j0);
            float* dst = pack + (long)(q - q0) * Nr * kc;
            // op(B)(k, j) is at j*ldb + k when transposed (nn.Linear weights), k*ldb + j otherwise.
            if (TransB) GemmPacking.PackTransposed<T, TLoad>(bBase + j0 * Ldb + kk, Ldb, Nr, valid, kc, dst);
            else GemmPacking.PackContiguous<T, TLoad>(bBase + kk * Ldb + j0, Ldb, Nr, valid, kc, dst);
        }
    }

    private readonly void Kernel(float* a, long lda, int rows, float* b, int kc, float* c, long ldc, float alpha,
        float beta, float* bias, float* prefetch, int prefetchLines)
    {
        if (Use512) GemmMicroKernel512.Run(a, lda, rows, b, kc, c, ldc, alpha, beta, bias, prefetch, prefetchLines);
        else GemmMicroKernel256.Run(a, lda, rows, b, kc, c, ldc, alpha, beta, bias);
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
