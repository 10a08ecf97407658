// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>
/// Scatter-reduce of source rows into destination rows (methods.md K6): ToMe/AIM merges (mean, size-weighted sum),
/// EViT's inattentive-token fusion, RazorAttention's compensation token.
/// </summary>
public static class Scatter
{
    private const string Op = "Scatter.Reduce";

    /// <summary>
    /// In place into F32 <paramref name="destination"/> [B, M, C]: for every (b, n) with index[b, n] &gt;= 0 (-1 skips),
    /// Sum: dst[b, index[b, n], :] += w[b, n] * src[b, n, :] (w = 1 when <paramref name="weights"/> is null);
    /// Mean: rows receiving c &gt;= 1 sources become (dst + sum of w * src) / (1 + c) (torch scatter_reduce "mean",
    /// include_self=True), untouched rows keep their value; Amax: dst = max(dst, src) elementwise (no weights).
    /// Deterministic on the CPU: sources are accumulated in ascending n.
    /// </summary>
    /// <param name="destination">F32 [B, M, C], updated in place.</param>
    /// <param name="index">I32 [B, N], entries in [-1, M).</param>
    /// <param name="source">F32 [B, N, C].</param>
    /// <param name="mode">The reduction.</param>
    /// <param name="weights">Optional F32 [B, N] (Sum and Mean only).</param>
    public static void Reduce(Tensor destination, Tensor index, Tensor source, ScatterMode mode, Tensor? weights = null)
    {
        Check.Operand(Op, "destination", destination, destination, "destination", DType.F32);
        Check.Operand(Op, "index", index, destination, "destination", DType.I32);
        Check.Operand(Op, "source", source, destination, "destination", DType.F32);
        if (weights is not null) Check.Operand(Op, "weights", weights, destination, "destination", DType.F32);
        SelectionValidation.Rank3(Op, "destination", destination, "[B, M, C]");
        Check.Rank(Op, "index", index, 2, "[B, N]");
        SelectionValidation.Rank3(Op, "source", source, "[B, N, C]");
        int b = destination.Shape[0], m = destination.Shape[1], c = destination.Shape[2], n = index.Shape[1];
        Check.Shape(Op, "index", index, new Shape(b, n), "[B, N] with B of destination", destination, "destination");
        Check.Shape(Op, "source", source, new Shape(b, n, c), "[B, N, C] with N of index and B, C of destination", destination, "destination");
        if (weights is not null) Check.Shape(Op, "weights", weights, new Shape(b, n), "[B, N] like index", index, "index");
        if ((uint)mode > (uint)ScatterMode.Amax) ThrowHelper.OutOfRange(Op, "mode", mode, "must be Sum, Mean or Amax");
        if (weights is not null && mode == ScatterMode.Amax)
            ThrowHelper.Argument(Op, "weights", $"(shape {weights.Shape}) is only defined for Sum and Mean, not Amax");
        SelectionValidation.IndexRange(Op, "index", index, -1, m, destination, "destination");
        SelectionValidation.Kernels(Op, destination)
            .ScatterReduce(new ScatterReduceArgs(destination, index, source, weights, mode, b, m, n, c));
    }
}
