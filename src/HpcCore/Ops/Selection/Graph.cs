// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>Graph scores over attention maps (methods.md K3): Zero-TPrune's and AIM's PageRank-style importance.</summary>
public static class Graph
{
    private const string Op = "Graph.PageRank";

    /// <summary>
    /// Power iteration s_{t+1}[j] = sum_i s_t[i] * M[i, j] per (b, h) of transition F32 [B, H, N, N], from
    /// <paramref name="initial"/> F32 [B, H, N] or 1/N; gives F32 [B, H, N] after <paramref name="iterations"/> steps
    /// (no renormalisation between steps, as in Zero-TPrune's WPR).
    /// </summary>
    public static Tensor PageRank(Tensor transition, int iterations, Tensor? initial = null)
    {
        Check.Live(Op, "transition", transition);
        Check.Rank(Op, "transition", transition, 4, "[B, H, N, N]");
        var shape = new Shape(transition.Shape[0], transition.Shape[1], transition.Shape[2]);
        return OutputTensor.Fill(Tensor.Empty(shape, DType.F32, transition.Backend), (transition, iterations, initial),
            static (d, s) => PageRank(s.transition, s.iterations, s.initial, d));
    }

    /// <summary>
    /// Power iteration into <paramref name="destination"/> F32 [B, H, N] (<paramref name="initial"/> may be null; it
    /// comes before the destination so that a three-argument call is never mistaken for this overload).
    /// </summary>
    public static void PageRank(Tensor transition, int iterations, Tensor? initial, Tensor destination)
    {
        Check.Operand(Op, "transition", transition, transition, "transition", DType.F32);
        if (initial is not null) Check.Operand(Op, "initial", initial, transition, "transition", DType.F32);
        Check.Operand(Op, "destination", destination, transition, "transition", DType.F32);
        Check.Rank(Op, "transition", transition, 4, "[B, H, N, N]");
        int b = transition.Shape[0], h = transition.Shape[1], n = transition.Shape[2];
        if (transition.Shape[3] != n)
            ThrowHelper.Argument(Op, "transition", $"has shape {transition.Shape}; expected square [B, H, N, N]");
        var shape = new Shape(b, h, n);
        if (initial is not null) Check.Shape(Op, "initial", initial, shape, "[B, H, N]", transition, "transition");
        Check.Shape(Op, "destination", destination, shape, "[B, H, N]", transition, "transition");
        if (iterations < 0) ThrowHelper.OutOfRange(Op, "iterations", iterations, "must be >= 0");
        SelectionValidation.Kernels(Op, transition)
            .PageRank(new PageRankArgs(transition, initial, destination, (long)b * h, n, iterations));
    }
}
