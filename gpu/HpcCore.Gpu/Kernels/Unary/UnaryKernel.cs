// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Elementwise activations: scale, GELU (erf form via Abramowitz & Stegun 7.1.26, |err| < 1.5e-7, the same polynomial
// as the CPU backend), GELU (tanh form) and SiLU. exp/tanh come from ILGPU.Algorithms' XMath (ex2.approx on PTX).
// Algorithm: grid-stride loop. Limits: contiguous F32; d may alias x.
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;

/// <summary>Dims of <see cref="UnaryKernel"/>.</summary>
internal readonly struct UnaryParams(long count, int op, float alpha)
{
    public readonly long Count = count;
    public readonly int Op = op; // UnaryOp as int
    public readonly float Alpha = alpha;
}

/// <summary>Scale, GELU (erf and tanh forms) and SiLU.</summary>
internal sealed class UnaryKernel(Accelerator accelerator, LaunchPolicy policy)
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, UnaryParams> _launch =
        accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, UnaryParams>(Kernel);

    public void Launch(in UnaryArgs a)
    {
        if (a.Count == 0) return;
        int group = policy.ElementwiseGroupSize;
        _launch(new KernelConfig(policy.GridFor(a.Count, group), group),
            DeviceViews.Elements<float>(a.X, a.Count), DeviceViews.Elements<float>(a.Dest, a.Count),
            new UnaryParams(a.Count, (int)a.Op, a.Alpha));
    }

    /// <param name="x">[N] input.</param>
    /// <param name="d">[N] output (may alias x).</param>
    /// <param name="p">Count, operator and scale.</param>
    internal static void Kernel(ArrayView<float> x, ArrayView<float> d, UnaryParams p)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < p.Count; i += stride)
        {
            float v = x[i];
            d[i] = p.Op == (int)UnaryOp.Scale ? p.Alpha * v : Activation(p.Op, v);
        }
    }

    /// <summary>
    /// An activation of one value: 1 GELU, 2 GELU-tanh, 3 SiLU (UnaryOp's and GemmActivation's shared numbering).
    /// </summary>
    internal static float Activation(int activation, float v) =>
        activation == 1 ? 0.5f * v * (1f + Erf(v * 0.70710678118654752f))
        : activation == 2 ? 0.5f * v * (1f + XMath.Tanh(0.7978845608028654f * (v + 0.044715f * v * v * v)))
        : Silu(v);

    /// <summary>x * sigmoid(x); exp(-x) overflowing to +inf gives -0, as it should.</summary>
    internal static float Silu(float v) => v / (1f + XMath.Exp(-v));

    /// <summary>Abramowitz &amp; Stegun 7.1.26 for z &gt;= 0, mirrored for z &lt; 0.</summary>
    internal static float Erf(float z)
    {
        float a = XMath.Abs(z);
        float t = 1f / (1f + 0.3275911f * a);
        float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
        float r = 1f - poly * XMath.Exp(-a * a);
        return z < 0 ? -r : r;
    }
}
