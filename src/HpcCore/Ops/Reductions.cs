// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>Reductions: row argmax along the last axis, and sum, mean and root mean square along any axis.</summary>
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

    private const string SumOp = "Reductions.Sum";
    private const string MeanOp = "Reductions.Mean";
    private const string RmsOp = "Reductions.RootMeanSquare";

    /// <summary>Sum of F32 x along <paramref name="axis"/> (negative counts from the end), removing that axis.</summary>
    public static Tensor Sum(Tensor x, int axis) => AlongAxis(SumOp, x, axis, AxisReduceKind.Sum);

    /// <summary>Sum of x along <paramref name="axis"/> into <paramref name="destination"/> (x's shape without the axis).</summary>
    public static void Sum(Tensor x, int axis, Tensor destination) => AlongAxis(SumOp, x, axis, destination, AxisReduceKind.Sum);

    /// <summary>Mean of F32 x along <paramref name="axis"/>, removing that axis (NaN for an empty axis).</summary>
    public static Tensor Mean(Tensor x, int axis) => AlongAxis(MeanOp, x, axis, AxisReduceKind.Mean);

    /// <summary>Mean of x along <paramref name="axis"/> into <paramref name="destination"/>.</summary>
    public static void Mean(Tensor x, int axis, Tensor destination) => AlongAxis(MeanOp, x, axis, destination, AxisReduceKind.Mean);

    /// <summary>
    /// sqrt(mean(x^2)) of F32 x along <paramref name="axis"/>, removing that axis: Zero-TPrune's and AIM's combination
    /// of per-head scores.
    /// </summary>
    public static Tensor RootMeanSquare(Tensor x, int axis) => AlongAxis(RmsOp, x, axis, AxisReduceKind.RootMeanSquare);

    /// <summary>Root mean square of x along <paramref name="axis"/> into <paramref name="destination"/>.</summary>
    public static void RootMeanSquare(Tensor x, int axis, Tensor destination) => AlongAxis(RmsOp, x, axis, destination, AxisReduceKind.RootMeanSquare);

    private static Tensor AlongAxis(string op, Tensor x, int axis, AxisReduceKind kind)
    {
        Check.Live(op, "x", x);
        Check.MinRank(op, "x", x, 1);
        int a = ResolveAxis(op, x, axis);
        return OutputTensor.Fill(Tensor.Empty(Without(x.Shape, a), DType.F32, x.Backend), (op, x, axis, kind),
            static (d, s) => AlongAxis(s.op, s.x, s.axis, d, s.kind));
    }

    private static void AlongAxis(string op, Tensor x, int axis, Tensor destination, AxisReduceKind kind)
    {
        Check.Operand(op, "x", x, x, "x", DType.F32);
        Check.MinRank(op, "x", x, 1);
        Check.Operand(op, "destination", destination, x, "x", DType.F32);
        int a = ResolveAxis(op, x, axis);
        Check.Shape(op, "destination", destination, Without(x.Shape, a), "x without the reduced axis", x, "x");
        long outer = 1, inner = 1;
        for (int i = 0; i < a; i++) outer *= x.Shape[i];
        for (int i = a + 1; i < x.Rank; i++) inner *= x.Shape[i];
        SelectionValidation.Kernels(op, x).AxisReduce(new AxisReduceArgs(x, destination, kind, outer, x.Shape[a], inner));
    }

    private static int ResolveAxis(string op, Tensor x, int axis)
    {
        if (axis < -x.Rank || axis >= x.Rank) ThrowHelper.OutOfRange(op, "axis", axis, $"must be in [{-x.Rank}, {x.Rank}) for x of shape {x.Shape}");
        return axis < 0 ? axis + x.Rank : axis;
    }

    private static Shape Without(Shape shape, int axis)
    {
        Span<int> dims = stackalloc int[shape.Rank - 1];
        for (int i = 0, j = 0; i < shape.Rank; i++)
            if (i != axis) dims[j++] = shape[i];
        return new Shape(dims);
    }
}
