// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>Batched row gather (methods.md K5): keep the selected tokens of every sequence.</summary>
public static class Gather
{
    private const string Op = "Gather.Rows";

    /// <summary>out[b, i, :] = x[b, indices[b, i], :] for x F32 [B, N, C] and I32 indices [B, K]; gives [B, K, C].</summary>
    public static Tensor Rows(Tensor x, Tensor indices)
    {
        Check.Live(Op, "x", x);
        Check.Live(Op, "indices", indices);
        SelectionValidation.Rank3(Op, "x", x, "[B, N, C]");
        Check.Rank(Op, "indices", indices, 2, "[B, K]");
        var shape = new Shape(x.Shape[0], indices.Shape[1], x.Shape[2]);
        return OutputTensor.Fill(Tensor.Empty(shape, DType.F32, x.Backend), (x, indices), static (d, s) => Rows(s.x, s.indices, d));
    }

    /// <summary>
    /// Gathers rows into <paramref name="destination"/> [B, K, C]. Indices must lie in [0, N): checked when they are
    /// host-visible (CPU); a GPU kernel writes a zero row for an index outside.
    /// </summary>
    public static void Rows(Tensor x, Tensor indices, Tensor destination)
    {
        Check.Operand(Op, "x", x, x, "x", DType.F32);
        Check.Operand(Op, "indices", indices, x, "x", DType.I32);
        Check.Operand(Op, "destination", destination, x, "x", DType.F32);
        SelectionValidation.Rank3(Op, "x", x, "[B, N, C]");
        Check.Rank(Op, "indices", indices, 2, "[B, K]");
        int b = x.Shape[0], n = x.Shape[1], c = x.Shape[2], k = indices.Shape[1];
        if (indices.Shape[0] != b)
            ThrowHelper.Argument(Op, "indices", $"has shape {indices.Shape}; expected [{b}, K] (batch of x {x.Shape})");
        Check.Shape(Op, "destination", destination, new Shape(b, k, c), "[B, K, C]", x, "x");
        SelectionValidation.IndexRange(Op, "indices", indices, 0, n, x, "x");
        SelectionValidation.Kernels(Op, x).GatherRows(new GatherRowsArgs(x, indices, destination, b, n, k, c));
    }
}
