// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>Reductions along the last axis.</summary>
public static class Reductions
{
    private const string Op = "Reductions.Argmax";

    /// <summary>
    /// Index of the maximum of each row of x [..., N] as I32 [...]. Ties go to the lower index (so CPU and GPU
    /// agree exactly); NaNs are skipped; an all-NaN row gives -1.
    /// </summary>
    public static Tensor Argmax(Tensor x)
    {
        Check.Live(Op, "x", x);
        Check.MinRank(Op, "x", x, 1);
        Span<int> dims = stackalloc int[x.Rank - 1];
        for (int i = 0; i < dims.Length; i++) dims[i] = x.Shape[i];
        return OutputTensor.Fill(Tensor.Empty(new Shape(dims), DType.I32, x.Backend), x, static (d, s) => Argmax(s, d));
    }

    /// <summary>Row argmax of x [..., N] into I32 <paramref name="destination"/> [...].</summary>
    public static void Argmax(Tensor x, Tensor destination)
    {
        Check.Live(Op, "x", x);
        Check.Operand(Op, "x", x, x, "x", DType.F32);
        Check.MinRank(Op, "x", x, 1);
        if (x.Shape.Last == 0) ThrowHelper.Argument(Op, "x", $"has shape {x.Shape}; rows must not be empty");
        Check.Operand(Op, "destination", destination, x, "x", DType.I32);
        if (destination.ElementCount != x.Shape.RowCount || destination.Rank != x.Rank - 1)
            ThrowHelper.Argument(Op, "destination", $"has shape {destination.Shape}; expected x's {x.Shape} without its last axis");
        x.Backend.Kernels.Argmax(new ArgmaxArgs(x, destination, x.Shape.RowCount, x.Shape.Last));
    }
}
