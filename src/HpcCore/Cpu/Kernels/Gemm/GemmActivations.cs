// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The GEMM's fused activation: applied to a row segment of C right after its last K block is written, while the
// segment is still in L1 (the operators are the elementwise ones of CpuActivationOps).
namespace HpcCore.Cpu;

using HpcCore.Ops;

/// <summary>Applies a <see cref="GemmActivation"/> in place to runs of C.</summary>
internal static unsafe class GemmActivations
{
    /// <summary>c[i] = act(c[i]) for i in [0, n).</summary>
    public static void Apply(GemmActivation activation, float* c, long n)
    {
        switch (activation)
        {
            case GemmActivation.Gelu: SimdUnary.Map<GeluErfOp>(c, c, n); break;
            case GemmActivation.GeluTanh: SimdUnary.Map<GeluTanhOp>(c, c, n); break;
            case GemmActivation.Silu: SimdUnary.Map<SiluOp>(c, c, n); break;
            default: break;
        }
    }

    /// <summary><see cref="Apply(GemmActivation, float*, long)"/> over <paramref name="rows"/> rows of stride <paramref name="ld"/>.</summary>
    public static void Apply(GemmActivation activation, float* c, int rows, long ld, int n)
    {
        if (activation == GemmActivation.None) return;
        for (int i = 0; i < rows; i++) Apply(activation, c + i * ld, n);
    }
}
