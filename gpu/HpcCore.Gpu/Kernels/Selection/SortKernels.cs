// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Top-k, argsort and index sort on ILGPU, deterministic and identical to the CPU backend: every element becomes a
// unique 64-bit composite (rank key << 32 | column), so any correct sort gives one answer. The rank key is the
// sortable float key (NaN lowest, -0 == +0, sign-flipped IEEE bits; ILGPU.Algorithms' float radix sort skips the
// flip and mis-orders negatives), complemented for a descending order; for index sort it is the I32 value with its
// sign bit flipped. Rows are padded to a power of two P with ulong.MaxValue and sorted by a bitonic network
// (Batcher 1968): log2(P)(log2(P)+1)/2 grid-wide compare-exchange passes over all rows at once, then the first k
// composites are decoded. Simple and correct at any N (100k: 153 passes over 1 MB per row); a shared-memory
// variant for short rows and a radix select for k << N are the known next steps.
// Limits: contiguous F32 scores or I32 indices; rows up to 2^30 columns.
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;

/// <summary>Dims shared by the sort kernels.</summary>
internal readonly struct SortParams(long rows, int cols, int padded, int k, int mode)
{
    public readonly long Rows = rows;
    public readonly int Cols = cols;
    public readonly int Padded = padded;
    public readonly int K = k;
    /// <summary>0: descending scores, 1: ascending scores, 2: I32 values ascending.</summary>
    public readonly int Mode = mode;
}

/// <summary>Bitonic-network top-k, argsort and index sort.</summary>
internal sealed class SortKernels(Accelerator accelerator, LaunchPolicy policy, IlgpuMemoryPool memory)
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<ulong>, SortParams> _keys =
        accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<ulong>, SortParams>(Kernel);
    private readonly Action<KernelConfig, ArrayView<ulong>, long, int, int, int> _step =
        accelerator.LoadStreamKernel<ArrayView<ulong>, long, int, int, int>(StepKernel);
    private readonly Action<KernelConfig, ArrayView<ulong>, ArrayView<float>, ArrayView<float>, ArrayView<int>, SortParams> _emit =
        accelerator.LoadStreamKernel<ArrayView<ulong>, ArrayView<float>, ArrayView<float>, ArrayView<int>, SortParams>(EmitKernel);

    public void TopK(in TopKArgs a)
    {
        if (a.Rows == 0 || a.K == 0) return;
        var scores = DeviceViews.Elements<float>(a.Scores, a.Rows * a.Cols);
        var values = a.Values is null ? scores : DeviceViews.Elements<float>(a.Values, a.Rows * a.K);
        Run(scores, DeviceViews.Whole<int>(a.Indices), values, DeviceViews.Elements<int>(a.Indices, a.Rows * a.K),
            new SortParams(a.Rows, a.Cols, Padded(a.Cols), a.K, a.Descending ? 0 : 1), a.Values is not null);
    }

    public void SortIndices(in SortIndicesArgs a)
    {
        if (a.Rows == 0 || a.Cols == 0) return;
        var dest = DeviceViews.Elements<int>(a.Dest, a.Rows * a.Cols);
        Run(DeviceViews.Whole<float>(a.Source), DeviceViews.Elements<int>(a.Source, a.Rows * a.Cols), DeviceViews.Whole<float>(a.Dest), dest,
            new SortParams(a.Rows, a.Cols, Padded(a.Cols), a.Cols, 2), false);
    }

    private void Run(ArrayView<float> scores, ArrayView<int> ints, ArrayView<float> values, ArrayView<int> dest, SortParams p, bool withValues)
    {
        long total = p.Rows * p.Padded;
        var buffer = memory.Rent(total * sizeof(ulong));
        try
        {
            var keys = ((ArrayView<byte>)buffer.View).SubView(0, total * sizeof(ulong)).Cast<ulong>();
            int group = policy.ElementwiseGroupSize;
            _keys(new KernelConfig(policy.GridFor(total, group), group), scores, ints, keys, p);
            long pairs = total / 2;
            var pairConfig = new KernelConfig(policy.GridFor(pairs, group), group);
            for (int size = 2; size <= p.Padded; size <<= 1)
                for (int stride = size >> 1; stride > 0; stride >>= 1)
                    _step(pairConfig, keys, pairs, p.Padded, size, stride);
            long outputs = p.Rows * p.K;
            _emit(new KernelConfig(policy.GridFor(outputs, group), group), keys, scores, withValues ? values : scores.SubView(0, 0), dest, p);
        }
        finally
        {
            memory.Return(buffer);
        }
    }

    private static int Padded(int cols)
    {
        int p = 1;
        while (p < cols) p <<= 1;
        return p;
    }

    /// <summary>Sortable key of a float: NaN 0, -0 as +0, larger number larger key.</summary>
    internal static uint FloatKey(float x)
    {
        if (XMath.IsNaN(x)) return 0;
        uint bits = Interop.FloatAsInt(x);
        if (bits == 0x8000_0000u) bits = 0;
        return (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
    }

    /// <summary>Composite keys: key[r, i] = rank key &lt;&lt; 32 | i, padding ulong.MaxValue.</summary>
    /// <param name="scores">[Rows, Cols] scores (modes 0 and 1).</param>
    /// <param name="ints">[Rows, Cols] values (mode 2).</param>
    /// <param name="keys">[Rows, Padded] composites.</param>
    /// <param name="p">Dims and mode.</param>
    internal static void Kernel(ArrayView<float> scores, ArrayView<int> ints, ArrayView<ulong> keys, SortParams p)
    {
        long total = p.Rows * p.Padded;
        long gridStride = (long)Grid.DimX * Group.DimX;
        for (long t = Grid.GlobalIndex.X; t < total; t += gridStride)
        {
            long r = t / p.Padded;
            int i = (int)(t - r * p.Padded);
            if (i >= p.Cols)
            {
                keys[t] = ulong.MaxValue;
                continue;
            }
            long at = r * p.Cols + i;
            uint key = p.Mode == 2 ? (uint)ints[at] ^ 0x8000_0000u : FloatKey(scores[at]) ^ (p.Mode == 0 ? uint.MaxValue : 0u);
            keys[t] = ((ulong)key << 32) | (uint)i;
        }
    }

    /// <summary>One bitonic compare-exchange pass over every row (rows are whole multiples of the block size).</summary>
    /// <param name="keys">[Rows * Padded] composites, sorted ascending within each row after the last pass.</param>
    /// <param name="pairs">Rows * Padded / 2.</param>
    /// <param name="padded">Row length P (a power of two).</param>
    /// <param name="size">Bitonic block size of this pass.</param>
    /// <param name="stride">Compare distance of this pass.</param>
    internal static void StepKernel(ArrayView<ulong> keys, long pairs, int padded, int size, int stride)
    {
        long gridStride = (long)Grid.DimX * Group.DimX;
        for (long t = Grid.GlobalIndex.X; t < pairs; t += gridStride)
        {
            long i = 2 * stride * (t / stride) + t % stride, l = i + stride;
            bool ascending = (i & (padded - 1) & size) == 0; // the column, not the flat index: every row ends ascending
            ulong x = keys[i], y = keys[l];
            if ((x > y) == ascending)
            {
                keys[i] = y;
                keys[l] = x;
            }
        }
    }

    /// <summary>Decodes the first K composites of each row into indices (and values) or sorted I32 values.</summary>
    /// <param name="keys">[Rows, Padded] sorted composites.</param>
    /// <param name="scores">[Rows, Cols] scores (value output).</param>
    /// <param name="values">[Rows, K] values, or an empty view.</param>
    /// <param name="dest">[Rows, K] indices (modes 0, 1) or sorted values (mode 2).</param>
    /// <param name="p">Dims and mode.</param>
    internal static void EmitKernel(ArrayView<ulong> keys, ArrayView<float> scores, ArrayView<float> values, ArrayView<int> dest, SortParams p)
    {
        long total = p.Rows * p.K;
        long gridStride = (long)Grid.DimX * Group.DimX;
        for (long t = Grid.GlobalIndex.X; t < total; t += gridStride)
        {
            long r = t / p.K;
            int j = (int)(t - r * p.K);
            ulong key = keys[r * p.Padded + j];
            if (p.Mode == 2)
            {
                dest[t] = (int)((uint)(key >> 32) ^ 0x8000_0000u);
                continue;
            }
            int index = (int)(uint)key;
            dest[t] = index;
            if (values.Length > 0) values[t] = scores[r * p.Cols + index];
        }
    }
}
