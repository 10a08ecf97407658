// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Row gather and scatter-reduce on ILGPU, one thread per element (grid-stride). Gather writes a zero row for an index
// outside [0, N) (GPU indices are not range-checked on the host). Scatter: Sum and Mean accumulate with float atomics
// (red.add.f32), so the order in which sources reach a destination element, and hence its last bits, is NOT
// deterministic (the CPU backend is); Amax uses a compare-and-swap loop on the float bits with the CPU's
// TensorPrimitives.Max semantics (NaN wins, +0 beats -0), which is order-independent and exact. Mean counts sources
// per destination row with integer atomics, then divides the rows that received any by (1 + count).
// Limits: contiguous F32 rows, I32 indices.
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;
using HpcCore.Ops;

/// <summary>Dims of the row kernels.</summary>
internal readonly struct RowMoveParams(int batch, int n, int k, int c, int mode, int weighted)
{
    public readonly int Batch = batch;
    /// <summary>Source rows per batch (gather: rows of x; scatter: sources).</summary>
    public readonly int N = n;
    /// <summary>Destination rows per batch (gather: K; scatter: M).</summary>
    public readonly int K = k;
    public readonly int C = c;
    public readonly int Mode = mode;
    public readonly int Weighted = weighted;
}

/// <summary>Gather and scatter-reduce launchers.</summary>
internal sealed class RowMoveKernels(Accelerator accelerator, LaunchPolicy policy, IlgpuMemoryPool memory)
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, RowMoveParams> _gather =
        accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, RowMoveParams>(Kernel);
    private readonly Action<KernelConfig, ArrayView<int>, ArrayView<int>, RowMoveParams> _count =
        accelerator.LoadStreamKernel<ArrayView<int>, ArrayView<int>, RowMoveParams>(CountKernel);
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, RowMoveParams> _scatter =
        accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, RowMoveParams>(ScatterKernel);
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, RowMoveParams> _mean =
        accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, RowMoveParams>(MeanKernel);

    public void GatherRows(in GatherRowsArgs a)
    {
        long total = (long)a.Batch * a.K * a.C;
        if (total == 0) return;
        int group = policy.ElementwiseGroupSize;
        _gather(new KernelConfig(policy.GridFor(total, group), group), DeviceViews.Whole<float>(a.X),
            DeviceViews.Elements<int>(a.Indices, (long)a.Batch * a.K), DeviceViews.Elements<float>(a.Dest, total),
            new RowMoveParams(a.Batch, a.N, a.K, a.C, 0, 0));
    }

    public void ScatterReduce(in ScatterReduceArgs a)
    {
        long total = (long)a.Batch * a.N * a.C;
        if (total == 0) return;
        int group = policy.ElementwiseGroupSize;
        var p = new RowMoveParams(a.Batch, a.N, a.M, a.C, (int)a.Mode, a.Weights is null ? 0 : 1);
        long dstCount = (long)a.Batch * a.M * a.C;
        var dst = DeviceViews.Elements<float>(a.Dest, dstCount);
        var dstBits = DeviceViews.Elements<int>(a.Dest, dstCount);
        var index = DeviceViews.Elements<int>(a.Index, (long)a.Batch * a.N);
        var src = DeviceViews.Elements<float>(a.Source, total);
        var weights = a.Weights is null ? src : DeviceViews.Elements<float>(a.Weights, (long)a.Batch * a.N);
        _scatter(new KernelConfig(policy.GridFor(total, group), group), dst, dstBits, index, src, weights, p);
        if (a.Mode != ScatterMode.Mean) return;
        var buffer = memory.Rent((long)a.Batch * a.M * sizeof(int));
        try
        {
            var counts = ((ArrayView<byte>)buffer.View).SubView(0, (long)a.Batch * a.M * sizeof(int)).Cast<int>();
            counts.MemSetToZero();
            _count(new KernelConfig(policy.GridFor((long)a.Batch * a.N, group), group), index, counts, p);
            _mean(new KernelConfig(policy.GridFor(dstCount, group), group), dst, counts, p);
        }
        finally
        {
            memory.Return(buffer);
        }
    }

    /// <summary>d[b, i, c] = x[b, idx[b, i], c], zero for an index outside [0, N).</summary>
    /// <param name="x">[B, N, C] rows.</param>
    /// <param name="idx">[B, K] indices.</param>
    /// <param name="d">[B, K, C] output.</param>
    /// <param name="p">Dims.</param>
    internal static void Kernel(ArrayView<float> x, ArrayView<int> idx, ArrayView<float> d, RowMoveParams p)
    {
        long total = (long)p.Batch * p.K * p.C;
        long gridStride = (long)Grid.DimX * Group.DimX;
        for (long t = Grid.GlobalIndex.X; t < total; t += gridStride)
        {
            long row = t / p.C;
            int c = (int)(t - row * p.C);
            long b = row / p.K;
            int id = idx[row];
            d[t] = (uint)id < (uint)p.N ? x[(b * p.N + id) * p.C + c] : 0f;
        }
    }

    /// <summary>Sources per destination row (Mean).</summary>
    /// <param name="index">[B, N] destination rows, -1 skips.</param>
    /// <param name="counts">[B, M] counts, zeroed by the host.</param>
    /// <param name="p">Dims (K holds M).</param>
    internal static void CountKernel(ArrayView<int> index, ArrayView<int> counts, RowMoveParams p)
    {
        long total = (long)p.Batch * p.N;
        long gridStride = (long)Grid.DimX * Group.DimX;
        for (long t = Grid.GlobalIndex.X; t < total; t += gridStride)
        {
            int m = index[t];
            if (m >= 0) Atomic.Add(ref counts[t / p.N * p.K + m], 1);
        }
    }

    /// <summary>Accumulates every source element into its destination (atomic add, or CAS max for Amax).</summary>
    /// <param name="dst">[B, M, C] destination.</param>
    /// <param name="dstBits">The same destination as raw bits (for the CAS loop).</param>
    /// <param name="index">[B, N] destination rows, -1 skips.</param>
    /// <param name="src">[B, N, C] sources.</param>
    /// <param name="weights">[B, N] weights (read when Weighted is 1).</param>
    /// <param name="p">Dims and mode (K holds M).</param>
    internal static void ScatterKernel(ArrayView<float> dst, ArrayView<int> dstBits, ArrayView<int> index, ArrayView<float> src,
        ArrayView<float> weights, RowMoveParams p)
    {
        long total = (long)p.Batch * p.N * p.C;
        long gridStride = (long)Grid.DimX * Group.DimX;
        for (long t = Grid.GlobalIndex.X; t < total; t += gridStride)
        {
            long row = t / p.C;
            int c = (int)(t - row * p.C);
            int m = index[row];
            if (m < 0) continue;
            long at = (row / p.N * p.K + m) * p.C + c;
            float v = src[t];
            if (p.Mode != (int)ScatterMode.Amax)
            {
                Atomic.Add(ref dst[at], p.Weighted != 0 ? weights[row] * v : v);
                continue;
            }
            int seen = dstBits[at];
            while (true)
            {
                float current = Interop.IntAsFloat((uint)seen);
                int wanted = (int)Interop.FloatAsInt(Max(current, v));
                if (wanted == seen) break;
                int before = Atomic.CompareExchange(ref dstBits[at], seen, wanted);
                if (before == seen) break;
                seen = before;
            }
        }
    }

    /// <summary>Rows that received c &gt;= 1 sources become (dst + sum) / (1 + c).</summary>
    /// <param name="dst">[B, M, C] destination holding dst + sum.</param>
    /// <param name="counts">[B, M] counts.</param>
    /// <param name="p">Dims (K holds M).</param>
    internal static void MeanKernel(ArrayView<float> dst, ArrayView<int> counts, RowMoveParams p)
    {
        long total = (long)p.Batch * p.K * p.C;
        long gridStride = (long)Grid.DimX * Group.DimX;
        for (long t = Grid.GlobalIndex.X; t < total; t += gridStride)
        {
            int count = counts[t / p.C];
            if (count > 0) dst[t] = dst[t] / (1f + count);
        }
    }

    // TensorPrimitives.Max: NaN if either is NaN, +0 over -0, else the larger.
    private static float Max(float a, float b)
    {
        if (XMath.IsNaN(a)) return a;
        if (XMath.IsNaN(b)) return b;
        if (a == b) return Interop.IntAsFloat(Interop.FloatAsInt(a) & Interop.FloatAsInt(b));
        return a > b ? a : b;
    }
}
