// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Group and grid sizes for every kernel, derived from the device. Kernels never hard-code a group size: they read
// Group.DimX, and this class is the only place that picks it.
using System.Numerics;
using ILGPU.Runtime;
using ILGPU.Runtime.OpenCL;

namespace HpcCore.Gpu;

/// <summary>
/// Launch geometry for one accelerator. On the CPU emulator everything runs in 32-thread groups (one warp) and grids
/// stay small, because each simulated thread is an OS thread and each barrier a <c>System.Threading.Barrier</c>.
/// On a GPU, elementwise kernels use 256-thread groups, row reductions 128 or 256, and the tiled GEMM 256 threads
/// over a 32x32 tile (4 outputs per thread, 8 KB of shared memory). Fused attention uses 128 threads and query/key
/// tiles of up to 32 x 32, shrunk with the head dim to stay within 48 KB of shared memory (emulator: 32 threads, 4 x 4);
/// decode shapes (Tq &lt;= 8) over long key ranges are split over keys (<see cref="AttentionPlanFor"/>).
/// </summary>
public sealed class LaunchPolicy
{
    /// <summary>Row kernels with warp shuffles keep one partial per warp: at most this many warps per group.</summary>
    public const int MaxWarpsPerGroup = 32;

    /// <summary>
    /// Largest group of a reducing kernel: its static shared scratch holds one entry per thread (what the
    /// shared-memory tree needs on devices without warp shuffles; the shuffle form uses the first 32).
    /// </summary>
    public const int MaxReduceThreads = 256;

    /// <summary>The GEMM kernel keeps at most this many accumulators per thread.</summary>
    public const int MaxGemmOutputsPerThread = 4;

    /// <summary>Largest head dim the fused attention kernel accepts.</summary>
    public const int MaxAttentionHeadDim = 256;

    /// <summary>Dynamic shared memory the fused attention kernel may use (ILGPU's per-group cap).</summary>
    public const int MaxAttentionSharedBytes = 48 * 1024;

    /// <summary>Longest query length treated as decoding (small query tiles, split over keys).</summary>
    public const int AttentionDecodeMaxQueries = 8;

    private LaunchPolicy(int warpSize, int elementwiseGroup, int rowGroup, int gemmGroup, int maxGroups, bool emulator, bool warpShuffles)
    {
        WarpSize = warpSize;
        WarpShuffles = warpShuffles;
        ElementwiseGroupSize = elementwiseGroup;
        RowGroupSizeMax = rowGroup;
        GemmGroupSize = gemmGroup;
        // Largest square tile whose outputs the group covers with at most 4 accumulators per thread.
        GemmTile = Math.Min(32, (int)Math.Sqrt(MaxGemmOutputsPerThread * gemmGroup));
        MaxGroups = maxGroups;
        AttentionGroupSize = emulator ? warpSize : Math.Max(warpSize, Math.Min(128, elementwiseGroup) / warpSize * warpSize);
        AttentionTileMax = emulator ? 4 : 32;
        // Emulator: fill its 16 groups and split already at 8 keys, so tiny test shapes cross several chunks.
        AttentionDecodeTargetGroups = emulator ? maxGroups : Math.Max(1, maxGroups / 8);
        AttentionDecodeMinChunk = emulator ? 8 : 256;
    }

    /// <summary>Threads per warp on the device (1 where ILGPU has no warp shuffles for it: no warp-level code runs there).</summary>
    public int WarpSize { get; }

    /// <summary>
    /// True when ILGPU can lower warp shuffles for the device (CUDA, Intel OpenCL GPUs with sub-groups, the emulator);
    /// reducing kernels then load their <c>WarpShuffleReduce</c> form, else the <c>SharedTreeReduce</c> one.
    /// </summary>
    public bool WarpShuffles { get; }

    /// <summary>Group size of elementwise (grid-stride) kernels.</summary>
    public int ElementwiseGroupSize { get; }

    /// <summary>Largest group size for one-group-per-row reductions.</summary>
    public int RowGroupSizeMax { get; }

    /// <summary>Group size of the tiled GEMM.</summary>
    public int GemmGroupSize { get; }

    /// <summary>Edge of the square GEMM output tile (and of the K step); shared memory holds 2 * tile^2 floats.</summary>
    public int GemmTile { get; }

    /// <summary>Group size of the fused attention kernel (32 on the emulator, 128 on a GPU).</summary>
    public int AttentionGroupSize { get; }

    /// <summary>
    /// Starting edge of the attention query and key tiles before shrinking to fit shared memory: 4 on the emulator
    /// (so tiny test shapes cross several tiles and ragged edges), 32 on a GPU.
    /// </summary>
    public int AttentionTileMax { get; }

    /// <summary>
    /// Groups a decode launch should fill (GPU: 4 per multiprocessor; emulator: 16): fewer (batch, head, query block)
    /// work items than this are split over keys.
    /// </summary>
    public int AttentionDecodeTargetGroups { get; }

    /// <summary>Fewest key slots per chunk of a split decode launch (GPU 256, emulator 8).</summary>
    public int AttentionDecodeMinChunk { get; }

    /// <summary>Most groups a grid-stride launch uses.</summary>
    public int MaxGroups { get; }

    /// <summary>The policy for <paramref name="accelerator"/>.</summary>
    public static LaunchPolicy For(Accelerator accelerator) => For(accelerator, allowWarpShuffles: true);

    /// <summary>The policy for <paramref name="accelerator"/>, without warp shuffles unless <paramref name="allowWarpShuffles"/>.</summary>
    internal static LaunchPolicy For(Accelerator accelerator, bool allowWarpShuffles)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        bool shuffles = allowWarpShuffles && HasWarpShuffles(accelerator);
        int warp = shuffles ? Math.Max(1, accelerator.WarpSize) : 1;
        int maxGroup = accelerator.MaxNumThreadsPerGroup;
        if (accelerator.AcceleratorType == AcceleratorType.CPU)
            return new LaunchPolicy(warp, warp, warp, warp, 16, emulator: true, shuffles);
        int g256 = Math.Max(warp, Math.Min(256, maxGroup) / warp * warp);
        int maxGroups = Math.Max(1, accelerator.NumMultiprocessors) * 32;
        int rowGroup = Math.Min(g256, shuffles ? MaxWarpsPerGroup * warp : MaxReduceThreads);
        return new LaunchPolicy(warp, g256, rowGroup, g256, maxGroups, emulator: false, shuffles);
    }

    // ILGPU 1.5.3 lowers Warp.Shuffle* on OpenCL only to Intel's sub-group built-ins (CLInstructions.ShuffleOperations).
    private static bool HasWarpShuffles(Accelerator accelerator) => accelerator switch
    {
        CLAccelerator cl => cl.Vendor == CLDeviceVendor.Intel && cl.Capabilities.SubGroups,
        _ => true,
    };

    /// <summary>Group size for a row reduction over <paramref name="cols"/> columns: 128 for short rows, else the max.</summary>
    public int RowGroupSize(int cols) =>
        cols <= 2048 ? Math.Max(WarpSize, Math.Min(RowGroupSizeMax, 128)) : RowGroupSizeMax;

    /// <summary>Groups for a grid-stride loop over <paramref name="work"/> items in groups of <paramref name="groupSize"/>.</summary>
    public int GridFor(long work, int groupSize) =>
        (int)Math.Clamp((work + groupSize - 1) / groupSize, 1, MaxGroups);

    /// <summary>Groups for a one-group-per-row kernel over <paramref name="rows"/> rows (rows beyond it loop).</summary>
    public int RowGrid(long rows) => (int)Math.Clamp(rows, 1, Math.Max(MaxGroups, 1) * 64L);

    /// <summary>Tiles and key split of one fused attention launch.</summary>
    /// <param name="QueryBlock">Query rows per work item (Bq).</param>
    /// <param name="KeyTile">Key slots per shared-memory tile (Bk).</param>
    /// <param name="Splits">Key chunks per (batch, head, query block); 1 = no split (the kernel writes the output).</param>
    /// <param name="ChunkSlots">Key slots per chunk, a multiple of <paramref name="KeyTile"/> (Nk when unsplit).</param>
    public readonly record struct AttentionPlan(int QueryBlock, int KeyTile, int Splits, int ChunkSlots);

    /// <summary>
    /// Tiles and key split for Q [B, Tq, H, D] over <paramref name="keySlots"/> key slots. The query block is the
    /// smallest power of two covering Tq, at most <see cref="AttentionTileMax"/>; decode shapes (Tq &lt;= 8) take key
    /// tiles twice as long (fewer barriers per key). When a decode launch has fewer work items than
    /// <see cref="AttentionDecodeTargetGroups"/> and no score export is requested, the keys are split into chunks of at
    /// least <see cref="AttentionDecodeMinChunk"/> slots (flash-decoding), merged by the combine kernel.
    /// </summary>
    public AttentionPlan AttentionPlanFor(int queryLength, int keySlots, long batchHeads, int headDim, bool exports)
    {
        bool decode = queryLength <= AttentionDecodeMaxQueries;
        int bqMax = (int)Math.Min(AttentionTileMax, BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, queryLength)));
        var (bq, bk) = AttentionTilesFor(headDim, bqMax, decode ? 2 * AttentionTileMax : AttentionTileMax);
        long items = batchHeads * ((queryLength + bq - 1) / bq);
        if (!decode || exports || items >= AttentionDecodeTargetGroups || keySlots <= AttentionDecodeMinChunk)
            return new(bq, bk, 1, keySlots);
        long splits = Math.Min((AttentionDecodeTargetGroups + items - 1) / items,
            (keySlots + AttentionDecodeMinChunk - 1) / AttentionDecodeMinChunk);
        int chunk = (int)((keySlots + splits - 1) / splits);
        chunk = (chunk + bk - 1) / bk * bk;
        splits = (keySlots + chunk - 1) / chunk;
        return splits <= 1 ? new(bq, bk, 1, keySlots) : new(bq, bk, (int)splits, chunk);
    }

    /// <summary>
    /// Query-block and key-tile sizes (Bq, Bk) of the fused attention kernel for head dim <paramref name="headDim"/>:
    /// start at <paramref name="queryTileMax"/> x <paramref name="keyTileMax"/> and halve the larger one until the
    /// tiles fit in 48 KB (GPU prefill: 32 x 32 up to D = 64, 16 x 16 at D = 128, 8 x 8 at D = 256).
    /// </summary>
    public static (int QueryBlock, int KeyTile) AttentionTilesFor(int headDim, int queryTileMax, int keyTileMax)
    {
        int bq = queryTileMax, bk = keyTileMax;
        while (AttentionSharedFloats(headDim, bq, bk) * (long)sizeof(float) > MaxAttentionSharedBytes && (bq > 1 || bk > 1))
        {
            if (bk >= bq) bk /= 2;
            else bq /= 2;
        }
        return (bq, bk);
    }

    /// <summary>
    /// Shared floats of the attention kernel: Q and O [Bq, D], K [Bk, D + 1] and S [Bq, Bk + 1] (rows padded against
    /// bank conflicts), V [Bk, D], 3 row stats.
    /// </summary>
    public static int AttentionSharedFloats(int headDim, int queryBlock, int keyTile) =>
        (int)Math.Min(int.MaxValue, 2L * queryBlock * headDim + keyTile * (2L * headDim + 1) + (long)queryBlock * (keyTile + 1) + 3L * queryBlock);
}
