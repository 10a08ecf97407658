// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// LayerNorm (Ba et al. 2016) and RMSNorm (Zhang & Sennrich 2019) along the last axis.
// Algorithm: one group per row (grid-stride over rows). LayerNorm is two-pass like the CPU backend: mean, then the
// mean of squared deviations (accurate when |mean| >> std), then normalize * gamma (+ beta). RMSNorm: one sum of
// squares. Reductions are group all-reduces (warp shuffles + shared memory). Limits: contiguous F32; d may alias x.
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;

/// <summary>Dims of <see cref="NormRowKernel"/>.</summary>
internal readonly struct NormParams(long rows, int cols, float epsilon, int rms, int hasBeta)
{
    public readonly long Rows = rows;
    public readonly int Cols = cols;
    public readonly float Epsilon = epsilon;
    public readonly int Rms = rms;
    public readonly int HasBeta = hasBeta;
}

/// <summary>LayerNorm / RMSNorm, one group per row.</summary>
internal sealed class NormRowKernel(Accelerator accelerator, LaunchPolicy policy)
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormParams> _launch =
        policy.WarpShuffles
            ? accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormParams>(Kernel<WarpShuffleReduce>)
            : accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormParams>(Kernel<SharedTreeReduce>);

    public void Launch(in NormArgs a)
    {
        if (a.Rows == 0 || a.Cols == 0) return;
        long n = a.Rows * a.Cols;
        var gamma = DeviceViews.Elements<float>(a.Gamma, a.Cols);
        // Without beta, gamma stands in as a never-read placeholder view.
        var beta = a.Beta is null ? gamma : DeviceViews.Elements<float>(a.Beta, a.Cols);
        _launch(new KernelConfig(policy.RowGrid(a.Rows), policy.RowGroupSize(a.Cols)),
            DeviceViews.Elements<float>(a.X, n), gamma, beta, DeviceViews.Elements<float>(a.Dest, n),
            new NormParams(a.Rows, a.Cols, a.Epsilon, a.Kind == NormKind.RmsNorm ? 1 : 0, a.Beta is null ? 0 : 1));
    }

    /// <param name="x">[Rows, Cols] input.</param>
    /// <param name="gamma">[Cols] scale.</param>
    /// <param name="beta">[Cols] shift (read only when HasBeta).</param>
    /// <param name="d">[Rows, Cols] output (may alias x).</param>
    /// <param name="p">Rows, Cols, epsilon and kind.</param>
    internal static void Kernel<TReduce>(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> d, NormParams p)
        where TReduce : struct, IGroupReduce
    {
        var scratch = SharedMemory.Allocate<float>(LaunchPolicy.MaxReduceThreads);
        int tid = Group.IdxX, g = Group.DimX;
        for (long r = Grid.IdxX; r < p.Rows; r += Grid.DimX)
        {
            long row = r * p.Cols;
            // The mean's reduction runs for RMSNorm too (its result unused there): pocl 6 miscompiles a barrier inside
            // a branch even when every work-item takes it (the norm read another row's sums; docs/OPENCL.md).
            float s = 0f;
            if (p.Rms == 0)
                for (int c = tid; c < p.Cols; c += g) s += x[row + c];
            float mean = default(TReduce).Sum(s, scratch) / p.Cols;
            float q = 0f;
            for (int c = tid; c < p.Cols; c += g)
            {
                float v = x[row + c] - mean;
                q += v * v;
            }
            float inv = 1f / XMath.Sqrt(default(TReduce).Sum(q, scratch) / p.Cols + p.Epsilon);
            for (int c = tid; c < p.Cols; c += g)
            {
                float v = (x[row + c] - mean) * inv * gamma[c];
                d[row + c] = p.HasBeta != 0 ? v + beta[c] : v;
            }
        }
    }
}
