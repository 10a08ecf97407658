// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>
/// Top-k and argsort along the last axis of F32 scores [..., N] (every token-pruning method's selector,
/// methods.md K5). Ties always go to the lower index and NaN ranks below every number (-inf included); -0 equals +0.
/// </summary>
public static class TopK
{
    private const string IndicesOp = "TopK.Indices";
    private const string SelectOp = "TopK.Select";
    private const string ArgsortOp = "TopK.Argsort";

    /// <summary>Indices I32 [..., k] of the k largest scores per row, by score descending (ties: lower index first).</summary>
    public static Tensor Indices(Tensor scores, int k)
    {
        var shape = OutputShape(IndicesOp, scores, k);
        return OutputTensor.Fill(Tensor.Empty(shape, DType.I32, scores.Backend), (scores, k), static (d, s) => Indices(s.scores, s.k, d));
    }

    /// <summary>Indices of the k largest scores per row into I32 <paramref name="destination"/> [..., k].</summary>
    public static void Indices(Tensor scores, int k, Tensor destination)
    {
        var args = Resolve(IndicesOp, scores, k, null, destination, "destination", true);
        SelectionValidation.Kernels(IndicesOp, scores).TopK(args);
    }

    /// <summary>Values F32 [..., k] and indices I32 [..., k] of the k largest scores per row, by score descending.</summary>
    public static (Tensor Values, Tensor Indices) Select(Tensor scores, int k)
    {
        var shape = OutputShape(SelectOp, scores, k);
        var values = Tensor.Empty(shape, DType.F32, scores.Backend);
        try
        {
            var indices = OutputTensor.Fill(Tensor.Empty(shape, DType.I32, scores.Backend), (scores, k, values),
                static (d, s) => Select(s.scores, s.k, s.values, d));
            return (values, indices);
        }
        catch
        {
            values.Dispose();
            throw;
        }
    }

    /// <summary>Values and indices of the k largest scores per row into F32 <paramref name="values"/> and I32 <paramref name="indices"/> [..., k].</summary>
    public static void Select(Tensor scores, int k, Tensor values, Tensor indices)
    {
        var args = Resolve(SelectOp, scores, k, values, indices, "indices", true);
        SelectionValidation.Kernels(SelectOp, scores).TopK(args);
    }

    /// <summary>
    /// Full stable argsort I32 [..., N] of each row: descending (the default) or ascending by score; equal scores keep
    /// the lower index first either way.
    /// </summary>
    public static Tensor Argsort(Tensor scores, bool descending = true)
    {
        Check.Live(ArgsortOp, "scores", scores);
        return OutputTensor.Fill(Tensor.Empty(scores.Shape, DType.I32, scores.Backend), (scores, descending),
            static (d, s) => Argsort(s.scores, d, s.descending));
    }

    /// <summary>Stable argsort of each row into I32 <paramref name="destination"/> [..., N].</summary>
    public static void Argsort(Tensor scores, Tensor destination, bool descending = true)
    {
        Check.Operand(ArgsortOp, "scores", scores, scores, "scores", DType.F32);
        Check.MinRank(ArgsortOp, "scores", scores, 1);
        var args = Resolve(ArgsortOp, scores, scores.Shape.Last, null, destination, "destination", descending);
        SelectionValidation.Kernels(ArgsortOp, scores).TopK(args);
    }

    private static Shape OutputShape(string op, Tensor scores, int k)
    {
        Check.Live(op, "scores", scores);
        Check.MinRank(op, "scores", scores, 1);
        SelectionValidation.Count(op, "k", k, scores.Shape.Last, scores, "scores");
        return SelectionValidation.WithLast(scores.Shape, k);
    }

    private static TopKArgs Resolve(string op, Tensor scores, int k, Tensor? values, Tensor indices, string indicesName, bool descending)
    {
        Check.Operand(op, "scores", scores, scores, "scores", DType.F32);
        Check.MinRank(op, "scores", scores, 1);
        SelectionValidation.Count(op, "k", k, scores.Shape.Last, scores, "scores");
        var shape = SelectionValidation.WithLast(scores.Shape, k);
        if (values is not null)
        {
            Check.Operand(op, "values", values, scores, "scores", DType.F32);
            Check.Shape(op, "values", values, shape, "scores with k on the last axis", scores, "scores");
        }
        Check.Operand(op, indicesName, indices, scores, "scores", DType.I32);
        Check.Shape(op, indicesName, indices, shape, "scores with k on the last axis", scores, "scores");
        return new TopKArgs(scores, values, indices, scores.Shape.RowCount, scores.Shape.Last, k, descending);
    }
}
