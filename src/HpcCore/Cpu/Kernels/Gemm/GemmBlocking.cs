// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Cache-blocking constants and the C tiling for the worker pool (BLIS's KC/MC/NC; Low, Igual, Smith & Quintana-Orti,
// "Analytical Modeling Is Enough for High-Performance BLIS", TOMS 2016, for how each maps to a cache level).
namespace HpcCore.Cpu;

/// <summary>Block sizes of the CPU GEMM and the split of C into parallel tiles.</summary>
internal static class GemmBlocking
{
    /// <summary>
    /// Largest KC. The B micro-panel (KC x 32 floats, 64 KB at 512) is reused by every A panel of a tile; a probe
    /// showed the 8x32 kernel at full speed with it in L1 or L2 for KC up to 768, so KC is chosen to amortise the
    /// C update (one read-modify-write of the tile per KC block) rather than to fit L1.
    /// </summary>
    public const int KcMax = 512;

    /// <summary>MC: rows of C per tile; the tile's packed A block (MC x KC) stays in the 1 MB L2.</summary>
    public const int McMax = 192;

    /// <summary>NC: columns of C per tile.</summary>
    public const int NcMax = 1024;

    /// <summary>
    /// Pack buffer cap in floats (32 MB). A and B are packed whole when they fit (one pack phase, one multiply
    /// phase); larger problems are cut into batch groups and K chunks.
    /// </summary>
    public const long PackBudgetFloats = 8L << 20;

    /// <summary>Below this many FLOPs a call runs on the calling thread: waking workers costs more.</summary>
    public const long ParallelMinFlops = 1L << 21;

    /// <summary>KC for a K range: the range split into equal blocks of at most <see cref="KcMax"/>.</summary>
    public static int Kc(int kLen) => kLen <= KcMax ? Math.Max(1, kLen) : CeilDiv(kLen, CeilDiv(kLen, KcMax));

    /// <summary>
    /// Splits a batch of MPanels x NPanels register tiles into parallel C tiles: at most MC x NC each, and at least
    /// about 4 per thread when the problem allows, so that a dynamic schedule keeps every core busy to the end.
    /// </summary>
    public static (int MTilePanels, int MTiles, int NTilePanels, int NTiles) Tile(
        int batch, int mPanels, int nPanels, int mr, int nr, int threads)
    {
        int mTiles = CeilDiv(mPanels, Math.Max(1, McMax / mr));
        int nTiles = CeilDiv(nPanels, Math.Max(1, NcMax / nr));
        if (threads > 1)
        {
            long target = 4L * threads;
            if ((long)batch * mTiles * nTiles < target)
                nTiles = (int)Math.Min(nPanels, Math.Max(nTiles, CeilDiv(target, (long)batch * mTiles)));
            if ((long)batch * mTiles * nTiles < target)
                mTiles = (int)Math.Min(mPanels, Math.Max(mTiles, CeilDiv(target, (long)batch * nTiles)));
        }
        int mtp = CeilDiv(mPanels, mTiles), ntp = CeilDiv(nPanels, nTiles);
        return (mtp, CeilDiv(mPanels, mtp), ntp, CeilDiv(nPanels, ntp));
    }

    /// <summary>Ceiling of a / b for positive operands.</summary>
    public static int CeilDiv(int a, int b) => (a + b - 1) / b;

    /// <summary>Ceiling of a / b for positive operands.</summary>
    public static long CeilDiv(long a, long b) => (a + b - 1) / b;
}
