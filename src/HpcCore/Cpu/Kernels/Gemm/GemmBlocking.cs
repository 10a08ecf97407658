// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Cache-blocking constants and the C tiling for the worker pool (BLIS's KC/NC; Low, Igual, Smith & Quintana-Orti,
// "Analytical Modeling Is Enough for High-Performance BLIS", TOMS 2016, for how each maps to a cache level).
namespace HpcCore.Cpu;

/// <summary>Block sizes of the CPU GEMM and the split of C into parallel tiles.</summary>
internal static class GemmBlocking
{
    /// <summary>
    /// Largest KC. The B micro-panel (KC x 32 floats, 96 KB at 768) streams from L2 past each A row group, and the
    /// A rows (8 x KC floats, 24 KB) stay in L1 across the panels of a tile; a probe showed the 8x32 kernel at full
    /// speed from L1 or L2 for KC up to 768, so KC is chosen to amortise the C update (one read-modify-write of the
    /// tile per KC block): 768 beat 512 by ~8% on the 768-deep benchmark shapes (one pass over C instead of two).
    /// </summary>
    public const int KcMax = 768;

    /// <summary>
    /// Bytes of the per-thread packed B block (KC x NC): half the 1 MB L2, so the block stays there while every
    /// row group of A streams past it (the GotoBLAS rule that the packed operand reused most must stay cached).
    /// 256 KB (more, narrower tiles: A re-read more often) and 768 KB measured no better.
    /// </summary>
    public const int PackBlockBytes = 512 * 1024;

    /// <summary>Below this many FLOPs a call runs on the calling thread: waking workers costs more.</summary>
    public const long ParallelMinFlops = 1L << 21;

    /// <summary>KC for a K range: the range split into equal blocks of at most <see cref="KcMax"/>.</summary>
    public static int Kc(int kLen) => kLen <= KcMax ? Math.Max(1, kLen) : CeilDiv(kLen, CeilDiv(kLen, KcMax));

    /// <summary>
    /// Splits a batch of MPanels x NPanels register tiles into parallel C tiles. Each tile packs its own B block,
    /// so C is split along N first (every B block is packed exactly once and used for all rows); M is split only
    /// when N has too few panels for about 4 tiles per thread. Among the N splits whose B block fits
    /// <paramref name="maxNPanels"/>, the one with the shortest dynamic-schedule makespan is chosen (9 equal tiles
    /// on 2 threads would leave one core idle for a ninth of the call).
    /// </summary>
    public static (int MTilePanels, int MTiles, int NTilePanels, int NTiles) Tile(
        int batch, int mPanels, int nPanels, int maxNPanels, int threads)
    {
        int nMin = CeilDiv(nPanels, maxNPanels), mTiles = 1;
        if (threads > 1)
        {
            long target = 4L * threads;
            if ((long)batch * nMin < target) nMin = (int)Math.Min(nPanels, CeilDiv(target, batch));
            if ((long)batch * nMin < target) mTiles = (int)Math.Min(mPanels, CeilDiv(target, (long)batch * nMin));
        }
        int mtp = CeilDiv(mPanels, mTiles);
        mTiles = CeilDiv(mPanels, mtp);
        int bestNtp = CeilDiv(nPanels, nMin);
        if (threads > 1)
        {
            long bestSpan = long.MaxValue;
            for (int n = nMin; n <= Math.Min(nPanels, 2 * nMin); n++)
            {
                int ntp = CeilDiv(nPanels, n);
                long items = (long)batch * mTiles * CeilDiv(nPanels, ntp);
                long span = CeilDiv(items, threads) * ntp;
                if (span < bestSpan) (bestSpan, bestNtp) = (span, ntp);
            }
        }
        return (mtp, mTiles, bestNtp, CeilDiv(nPanels, bestNtp));
    }

    /// <summary>Panels per chunk when pre-packed B streams through chunks (GemmWork.MultiplyStreamed).</summary>
    public const int StreamChunkPanels = 2;

    /// <summary>
    /// Most row groups for which pre-packed B streams through chunks. Measured on GEMMs over pre-packed 768 x 3072
    /// weights read from memory (BENCHMARKS.md, "ViT-B/16 ... ToMe r=16"): one thread gains at every M up to 85 (M 11
    /// 1.31x, 53 1.08x, 85 1.04x); two threads gain at M 11-53 (1.03-1.08x) and lose at 85 (0.92-0.94x), where the
    /// first group's wait is spread over eleven groups and A (255 KB) read from L2 per chunk costs more.
    /// </summary>
    public const int StreamMaxRowGroups = 7;

    /// <summary>
    /// Panels per streamed chunk for a GEMM over pre-packed B (<paramref name="packed"/>), or 0 for the row-groups-outer
    /// loop nest: from two row groups (one group reads each panel once either way) to <see cref="StreamMaxRowGroups"/>.
    /// </summary>
    public static int StreamChunk(bool packed, int mPanels) =>
        packed && mPanels >= 2 && mPanels <= StreamMaxRowGroups ? StreamChunkPanels : 0;

    /// <summary>Ceiling of a / b for positive operands.</summary>
    public static int CeilDiv(int a, int b) => (a + b - 1) / b;

    /// <summary>Ceiling of a / b for positive operands.</summary>
    public static long CeilDiv(long a, long b) => (a + b - 1) / b;
}
