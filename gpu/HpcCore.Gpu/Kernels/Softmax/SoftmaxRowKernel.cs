// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Row softmax, max-subtracted (the "safe softmax" every framework uses; ggml softmax.cu, llm.c softmax_forward).
// Algorithm: one group per row (grid-stride over rows); three strided passes over the row: max (group all-reduce),
// sum of exp(x - max) (group all-reduce), then write exp(x - max) / sum. exp is XMath.Exp (ex2.approx on PTX).
// Conventions (match the CPU backend): a row whose max is -inf (fully masked) is written as zeros; a NaN anywhere in
// the row propagates to the whole row. Limits: contiguous F32; d may alias x; group size a multiple of the warp size.
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;

/// <summary>Dims of <see cref="SoftmaxRowKernel"/>.</summary>
internal readonly struct SoftmaxParams(long rows, int cols)
{
    public readonly long Rows = rows;
    public readonly int Cols = cols;
}

/// <summary>Softmax along the last axis, one group per row.</summary>
internal sealed class SoftmaxRowKernel(Accelerator accelerator, LaunchPolicy policy)
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, SoftmaxParams> _launch =
        policy.WarpShuffles
            ? accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, SoftmaxParams>(Kernel<WarpShuffleReduce>)
            : accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, SoftmaxParams>(Kernel<SharedTreeReduce>);

    public void Launch(in SoftmaxArgs a)
    {
        if (a.Rows == 0 || a.Cols == 0) return;
        long n = a.Rows * a.Cols;
        _launch(new KernelConfig(policy.RowGrid(a.Rows), policy.RowGroupSize(a.Cols)),
            DeviceViews.Elements<float>(a.X, n), DeviceViews.Elements<float>(a.Dest, n), new SoftmaxParams(a.Rows, a.Cols));
    }

    /// <param name="x">[Rows, Cols] logits.</param>
    /// <param name="d">[Rows, Cols] probabilities (may alias x).</param>
    /// <param name="p">Rows and Cols.</param>
    internal static void Kernel<TReduce>(ArrayView<float> x, ArrayView<float> d, SoftmaxParams p)
        where TReduce : struct, IGroupReduce
    {
        var scratch = SharedMemory.Allocate<float>(LaunchPolicy.MaxReduceThreads);
        int tid = Group.IdxX, g = Group.DimX;
        for (long r = Grid.IdxX; r < p.Rows; r += Grid.DimX)
        {
            long row = r * p.Cols;
            float m = float.NegativeInfinity;
            for (int c = tid; c < p.Cols; c += g) m = GroupReduce.MaxNaN(m, x[row + c]);
            m = default(TReduce).Max(m, scratch);
            // A fully masked row (max -inf) sums zeros and writes zeros. No early exit between the two reductions:
            // pocl 6 miscompiles a barrier that follows a branch out of the loop, even a uniform one (docs/OPENCL.md).
            bool masked = m == float.NegativeInfinity;
            float s = 0f;
            if (!masked)
                for (int c = tid; c < p.Cols; c += g) s += XMath.Exp(x[row + c] - m);
            s = default(TReduce).Sum(s, scratch);
            float inv = masked ? 0f : 1f / s;
            for (int c = tid; c < p.Cols; c += g) d[row + c] = masked ? 0f : XMath.Exp(x[row + c] - m) * inv;
        }
    }
}
