// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// SwiGLU (Shazeer 2020): d = silu(gate) * up, elementwise. Algorithm: grid-stride loop. Limits: contiguous F32.
using ILGPU;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;

/// <summary>silu(gate) * up.</summary>
internal sealed class SwiGluKernel(Accelerator accelerator, LaunchPolicy policy)
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, long> _launch =
        accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, long>(Kernel);

    public void Launch(in SwiGluArgs a)
    {
        if (a.Count == 0) return;
        int group = policy.ElementwiseGroupSize;
        _launch(new KernelConfig(policy.GridFor(a.Count, group), group),
            DeviceViews.Elements<float>(a.Gate, a.Count), DeviceViews.Elements<float>(a.Up, a.Count),
            DeviceViews.Elements<float>(a.Dest, a.Count), a.Count);
    }

    /// <param name="gate">[N] gate.</param>
    /// <param name="up">[N] up projection.</param>
    /// <param name="d">[N] output (may alias either input).</param>
    /// <param name="count">N.</param>
    internal static void Kernel(ArrayView<float> gate, ArrayView<float> up, ArrayView<float> d, long count)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < count; i += stride) d[i] = UnaryKernel.Silu(gate[i]) * up[i];
    }
}
