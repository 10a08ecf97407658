// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>
/// Index bookkeeping around a selector (methods.md K5): restoring spatial order after top-k (VTC-CLS, HiRED,
/// HiPrune), thresholding scores into a mask and compacting a mask into index lists.
/// </summary>
public static class Selection
{
    private const string SortOp = "Selection.SortAscending";
    private const string ThresholdOp = "Selection.Threshold";
    private const string CompactOp = "Selection.Compact";

    /// <summary>Each row of I32 indices [..., k] sorted ascending, as a new tensor.</summary>
    public static Tensor SortAscending(Tensor indices)
    {
        Check.Live(SortOp, "indices", indices);
        return OutputTensor.Fill(Tensor.Empty(indices.Shape, DType.I32, indices.Backend), indices,
            static (d, s) => SortAscending(s, d));
    }

    /// <summary>Each row of I32 indices [..., k] sorted ascending into <paramref name="destination"/> (may be <paramref name="indices"/> itself).</summary>
    public static void SortAscending(Tensor indices, Tensor destination)
    {
        Check.Operand(SortOp, "indices", indices, indices, "indices", DType.I32);
        Check.MinRank(SortOp, "indices", indices, 1);
        Check.Operand(SortOp, "destination", destination, indices, "indices", DType.I32);
        Check.Shape(SortOp, "destination", destination, indices.Shape, "same as indices");
        SelectionValidation.Kernels(SortOp, indices)
            .SortIndices(new SortIndicesArgs(indices, destination, indices.Shape.RowCount, indices.Shape.Last));
    }

    /// <summary>U8 mask [..., N] of scores &gt; <paramref name="threshold"/> (strict; NaN gives 0).</summary>
    public static Tensor Threshold(Tensor scores, float threshold)
    {
        Check.Live(ThresholdOp, "scores", scores);
        return OutputTensor.Fill(Tensor.Empty(scores.Shape, DType.U8, scores.Backend), (scores, threshold),
            static (d, s) => Threshold(s.scores, s.threshold, d));
    }

    /// <summary>scores &gt; <paramref name="threshold"/> into U8 <paramref name="destination"/> of the scores' shape.</summary>
    public static void Threshold(Tensor scores, float threshold, Tensor destination)
    {
        Check.Operand(ThresholdOp, "scores", scores, scores, "scores", DType.F32);
        Check.Operand(ThresholdOp, "destination", destination, scores, "scores", DType.U8);
        Check.Shape(ThresholdOp, "destination", destination, scores.Shape, "same as scores");
        SelectionValidation.Kernels(ThresholdOp, scores)
            .Threshold(new ThresholdArgs(scores, destination, threshold, scores.ElementCount));
    }

    /// <summary>
    /// Stream compaction of a Bool/U8 mask [R, N] (any leading axes): I32 indices [R, N] holding each row's nonzero
    /// positions in ascending order padded with -1, and I32 counts [R].
    /// </summary>
    public static (Tensor Indices, Tensor Counts) Compact(Tensor mask)
    {
        Check.Live(CompactOp, "mask", mask);
        Check.MinRank(CompactOp, "mask", mask, 1);
        var counts = Tensor.Empty(SelectionValidation.WithoutLast(mask.Shape), DType.I32, mask.Backend);
        try
        {
            var indices = OutputTensor.Fill(Tensor.Empty(mask.Shape, DType.I32, mask.Backend), (mask, counts),
                static (d, s) => Compact(s.mask, d, s.counts));
            return (indices, counts);
        }
        catch
        {
            counts.Dispose();
            throw;
        }
    }

    /// <summary>Stream compaction of <paramref name="mask"/> into I32 <paramref name="indices"/> [R, N] and <paramref name="counts"/> [R].</summary>
    public static void Compact(Tensor mask, Tensor indices, Tensor counts)
    {
        Check.Live(CompactOp, "mask", mask);
        if (mask.DType is not (DType.U8 or DType.Bool))
            ThrowHelper.Argument(CompactOp, "mask", $"has dtype {mask.DType} (shape {mask.Shape}); expected U8 or Bool");
        Check.Contiguous(CompactOp, "mask", mask);
        Check.MinRank(CompactOp, "mask", mask, 1);
        Check.Operand(CompactOp, "indices", indices, mask, "mask", DType.I32);
        Check.Shape(CompactOp, "indices", indices, mask.Shape, "same as mask");
        Check.Operand(CompactOp, "counts", counts, mask, "mask", DType.I32);
        Check.Shape(CompactOp, "counts", counts, SelectionValidation.WithoutLast(mask.Shape), "mask without its last axis", mask, "mask");
        SelectionValidation.Kernels(CompactOp, mask)
            .Compact(new CompactArgs(mask, indices, counts, mask.Shape.RowCount, mask.Shape.Last));
    }
}
