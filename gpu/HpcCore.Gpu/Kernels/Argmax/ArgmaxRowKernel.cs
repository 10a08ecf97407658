// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Row argmax, deterministic and identical to the CPU backend: NaNs are skipped, the largest value wins, equal values
// (including -0 == +0) go to the lower index, and an all-NaN row gives -1.
// Algorithm: one group per row; each thread scans a strided subset in increasing index order keeping the first
// maximum, then (value, index) pairs are all-reduced over the group with the order "greater value, or equal value
// and lower index", which is associative and commutative, so the result never depends on the reduction shape.
// Limits: contiguous F32 in, I32 out.
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;

/// <summary>Index of the row maximum, one group per row.</summary>
internal sealed class ArgmaxRowKernel(Accelerator accelerator, LaunchPolicy policy)
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, SoftmaxParams> _launch =
        policy.WarpShuffles
            ? accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, SoftmaxParams>(Kernel<WarpShuffleReduce>)
            : accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, SoftmaxParams>(Kernel<SharedTreeReduce>);

    public void Launch(in ArgmaxArgs a)
    {
        if (a.Rows == 0) return;
        long n = a.Rows * a.Cols;
        // Zero-width rows still get -1 (as on the CPU); the kernel then never reads x.
        var x = n == 0 ? DeviceViews.Whole<float>(a.X) : DeviceViews.Elements<float>(a.X, n);
        _launch(new KernelConfig(policy.RowGrid(a.Rows), policy.RowGroupSize(a.Cols)),
            x, DeviceViews.Elements<int>(a.Dest, a.Rows), new SoftmaxParams(a.Rows, a.Cols));
    }

    /// <param name="x">[Rows, Cols] values.</param>
    /// <param name="d">[Rows] indices.</param>
    /// <param name="p">Rows and Cols (same dims as softmax).</param>
    internal static void Kernel<TReduce>(ArrayView<float> x, ArrayView<int> d, SoftmaxParams p)
        where TReduce : struct, IGroupReduce
    {
        var values = SharedMemory.Allocate<float>(LaunchPolicy.MaxReduceThreads);
        var indices = SharedMemory.Allocate<int>(LaunchPolicy.MaxReduceThreads);
        int tid = Group.IdxX, g = Group.DimX;
        for (long r = Grid.IdxX; r < p.Rows; r += Grid.DimX)
        {
            long row = r * p.Cols;
            float best = float.NegativeInfinity;
            int bestIndex = -1;
            for (int c = tid; c < p.Cols; c += g)
            {
                float v = x[row + c];
                if (!XMath.IsNaN(v) && (bestIndex < 0 || v > best))
                {
                    best = v;
                    bestIndex = c;
                }
            }
            default(TReduce).ArgMax(ref best, ref bestIndex, values, indices);
            if (tid == 0) d[r] = bestIndex;
        }
    }
}
