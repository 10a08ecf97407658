// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>Normalization along the last axis of contiguous F32 tensors [..., C].</summary>
public static class Norms
{
    /// <summary>LayerNorm: (x - mean) / sqrt(var + eps) * gamma + beta, with gamma and beta [C] (beta optional).</summary>
    public static Tensor LayerNorm(Tensor x, Tensor gamma, Tensor? beta, float epsilon = 1e-5f) =>
        Elementwise.Allocate("Norms.LayerNorm", x, d => LayerNorm(x, gamma, beta, d, epsilon));

    /// <summary>LayerNorm into <paramref name="destination"/> (may be x).</summary>
    public static void LayerNorm(Tensor x, Tensor gamma, Tensor? beta, Tensor destination, float epsilon = 1e-5f) =>
        Run("Norms.LayerNorm", x, gamma, beta, destination, NormKind.LayerNorm, epsilon);

    /// <summary>RMSNorm: x / sqrt(mean(x^2) + eps) * gamma, with gamma [C].</summary>
    public static Tensor RmsNorm(Tensor x, Tensor gamma, float epsilon = 1e-5f) =>
        Elementwise.Allocate("Norms.RmsNorm", x, d => RmsNorm(x, gamma, d, epsilon));

    /// <summary>RMSNorm into <paramref name="destination"/> (may be x).</summary>
    public static void RmsNorm(Tensor x, Tensor gamma, Tensor destination, float epsilon = 1e-5f) =>
        Run("Norms.RmsNorm", x, gamma, null, destination, NormKind.RmsNorm, epsilon);

    private static void Run(string op, Tensor x, Tensor gamma, Tensor? beta, Tensor destination, NormKind kind, float eps)
    {
        Check.Live(op, "x", x);
        Check.Operand(op, "x", x, x, "x", DType.F32);
        Check.MinRank(op, "x", x, 1);
        var c = new Shape(x.Shape.Last);
        Check.Operand(op, "gamma", gamma, x, "x", DType.F32);
        Check.Shape(op, "gamma", gamma, c, "one weight per channel", x, "x");
        if (beta is not null)
        {
            Check.Operand(op, "beta", beta, x, "x", DType.F32);
            Check.Shape(op, "beta", beta, c, "one bias per channel", x, "x");
        }
        Check.Operand(op, "destination", destination, x, "x", DType.F32);
        Check.Shape(op, "destination", destination, x.Shape, "same as x");
        if (!(eps >= 0) || float.IsInfinity(eps)) ThrowHelper.OutOfRange(op, "epsilon", eps, "it must be finite and >= 0");
        x.Backend.Kernels.Norm(new NormArgs(x, gamma, beta, destination, kind, x.Shape.RowCount, x.Shape.Last, eps));
    }
}
