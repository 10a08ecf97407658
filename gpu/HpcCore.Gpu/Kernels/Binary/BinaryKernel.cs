// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Elementwise x op y with y broadcast over x's leading axes: d[i] = x[i] op y[i % yCount].
// Algorithm: grid-stride loop, one element per thread per step (coalesced). Limits: contiguous F32; d may alias x.
using ILGPU;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;

/// <summary>Dims of <see cref="BinaryKernel"/>.</summary>
internal readonly struct BinaryParams(long count, long yCount, int op)
{
    public readonly long Count = count;
    public readonly long YCount = yCount;
    public readonly int Op = op; // 0 add, 1 mul
}

/// <summary>Elementwise add/mul with trailing-axis broadcast of the right operand.</summary>
internal sealed class BinaryKernel(Accelerator accelerator, LaunchPolicy policy)
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, BinaryParams> _launch =
        accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, BinaryParams>(Kernel);

    public void Launch(in BinaryArgs a)
    {
        if (a.Count == 0 || a.YCount == 0) return;
        int group = policy.ElementwiseGroupSize;
        _launch(new KernelConfig(policy.GridFor(a.Count, group), group),
            DeviceViews.Elements<float>(a.X, a.Count), DeviceViews.Elements<float>(a.Y, a.YCount),
            DeviceViews.Elements<float>(a.Dest, a.Count), new BinaryParams(a.Count, a.YCount, a.Op == BinaryOp.Add ? 0 : 1));
    }

    /// <param name="x">[N] left operand.</param>
    /// <param name="y">[YCount] right operand, repeated over x.</param>
    /// <param name="d">[N] result (may alias x).</param>
    /// <param name="p">Counts and operator.</param>
    internal static void Kernel(ArrayView<float> x, ArrayView<float> y, ArrayView<float> d, BinaryParams p)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < p.Count; i += stride)
        {
            float yv = y[i % p.YCount];
            d[i] = p.Op == 0 ? x[i] + yv : x[i] * yv;
        }
    }
}
