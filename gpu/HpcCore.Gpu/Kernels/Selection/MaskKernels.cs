// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Threshold (one thread per element) and stream compaction (one thread per row, scanning in column order, so the
// output is ascending by construction; rows are independent). Same results as the CPU backend, bit for bit.
// Limits: contiguous F32 scores, U8/Bool masks, I32 outputs. Compaction is sequential within a row: fine for the
// token counts of these methods (N <= a few thousand per row, many rows); a group-wide scan is the next step.
using ILGPU;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;

/// <summary>Threshold and compaction launchers.</summary>
internal sealed class MaskKernels(Accelerator accelerator, LaunchPolicy policy)
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<byte>, float, long> _threshold =
        accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<byte>, float, long>(Kernel);
    private readonly Action<KernelConfig, ArrayView<byte>, ArrayView<int>, ArrayView<int>, long, int> _compact =
        accelerator.LoadStreamKernel<ArrayView<byte>, ArrayView<int>, ArrayView<int>, long, int>(CompactKernel);

    public void Threshold(in ThresholdArgs a)
    {
        if (a.Count == 0) return;
        int group = policy.ElementwiseGroupSize;
        _threshold(new KernelConfig(policy.GridFor(a.Count, group), group),
            DeviceViews.Elements<float>(a.Scores, a.Count), DeviceViews.Elements<byte>(a.Dest, a.Count), a.Threshold, a.Count);
    }

    public void Compact(in CompactArgs a)
    {
        if (a.Rows == 0) return;
        long n = a.Rows * a.Cols;
        int group = policy.ElementwiseGroupSize;
        _compact(new KernelConfig(policy.GridFor(a.Rows, group), group),
            n == 0 ? DeviceViews.Whole<byte>(a.Mask) : DeviceViews.Elements<byte>(a.Mask, n),
            n == 0 ? DeviceViews.Whole<int>(a.Indices) : DeviceViews.Elements<int>(a.Indices, n),
            DeviceViews.Elements<int>(a.Counts, a.Rows), a.Rows, a.Cols);
    }

    /// <summary>d[i] = s[i] &gt; t (NaN gives 0).</summary>
    /// <param name="s">Scores.</param>
    /// <param name="d">U8 mask.</param>
    /// <param name="t">Threshold.</param>
    /// <param name="count">Elements.</param>
    internal static void Kernel(ArrayView<float> s, ArrayView<byte> d, float t, long count)
    {
        long gridStride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < count; i += gridStride) d[i] = s[i] > t ? (byte)1 : (byte)0;
    }

    /// <summary>Per row: nonzero positions ascending, then -1; and the count.</summary>
    /// <param name="mask">[Rows, Cols] U8/Bool.</param>
    /// <param name="indices">[Rows, Cols] positions.</param>
    /// <param name="counts">[Rows] counts.</param>
    /// <param name="rows">Rows.</param>
    /// <param name="cols">Columns.</param>
    internal static void CompactKernel(ArrayView<byte> mask, ArrayView<int> indices, ArrayView<int> counts, long rows, int cols)
    {
        long gridStride = (long)Grid.DimX * Group.DimX;
        for (long r = Grid.GlobalIndex.X; r < rows; r += gridStride)
        {
            long row = r * cols;
            int count = 0;
            for (int j = 0; j < cols; j++)
                if (mask[row + j] != 0) indices[row + count++] = j;
            counts[r] = count;
            for (int j = count; j < cols; j++) indices[row + j] = -1;
        }
    }
}
