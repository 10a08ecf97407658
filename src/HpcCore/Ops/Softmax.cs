// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Cpu;
using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>
/// Softmax along the last axis of a contiguous F32 tensor, max-subtracted so that large logits stay finite.
/// Masked entries are -inf; a row that is entirely -inf (fully masked) yields zeros, never NaN.
/// </summary>
public static class Softmax
{
    private const string Op = "Softmax.Forward";

    /// <summary>Softmax of x [..., N], allocated.</summary>
    public static Tensor Forward(Tensor x) => Elementwise.Allocate(Op, x, d => Forward(x, d));

    /// <summary>Softmax of x [..., N] into <paramref name="destination"/> (may be x).</summary>
    public static void Forward(Tensor x, Tensor destination)
    {
        Check.Live(Op, "x", x);
        Check.Operand(Op, "x", x, x, "x", DType.F32);
        Check.MinRank(Op, "x", x, 1);
        Check.Operand(Op, "destination", destination, x, "x", DType.F32);
        Check.Shape(Op, "destination", destination, x.Shape, "same as x");
        x.Backend.Kernels.Softmax(new SoftmaxArgs(x, destination, x.Shape.RowCount, x.Shape.Last));
    }

    /// <summary>
    /// Softmax of one host row <paramref name="x"/> [N] into <paramref name="destination"/> [N] (may be x), on the
    /// calling thread with the CPU kernel's exp: for callers that hold scores in spans (paged KV attention, policy
    /// votes) rather than tensors. An all -inf row gives zeros.
    /// </summary>
    public static void Row(ReadOnlySpan<float> x, Span<float> destination)
    {
        const string op = "Softmax.Row";
        if (x.IsEmpty)
            throw new ArgumentException($"{op}: x is empty; a softmax needs at least one logit.", nameof(x));
        if (destination.Length != x.Length)
            throw new ArgumentException($"{op}: destination has {destination.Length} floats, x has {x.Length}; they must match.", nameof(destination));
        CpuKernels.SoftmaxRow(x, destination);
    }
}
