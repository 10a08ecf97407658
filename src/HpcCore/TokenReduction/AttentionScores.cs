// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Scorers over the attention kernel's exports, so that no method needs the eager [B, H, N, N] probabilities:
// AttentionOptions.RowProbabilities [B, H, nRows, Nk] (the [CLS] row) and AttentionOptions.KeyTotals [B, H, Nk]
// (attention received). methods.md section 4, primitive K2 (a) and (b).
namespace HpcCore.TokenReduction;

using HpcCore.Diagnostics;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>Per-token scores from exported attention statistics.</summary>
public static class AttentionScores
{
    /// <summary>
    /// [CLS]-row attention to the patches: combine_h P[:, h, <paramref name="row"/>, 1:] from
    /// <paramref name="rowProbabilities"/> F32 [B, H, nRows, Nk] (the kernel's RowProbabilities with RowIndices = [0]).
    /// Returns F32 [B, Nk - 1]; index j scores token j + 1.
    /// </summary>
    public static Tensor ClassRow(Tensor rowProbabilities, int row = 0, HeadCombine combine = HeadCombine.Mean)
    {
        const string Op = "AttentionScores.ClassRow";
        Check.Live(Op, nameof(rowProbabilities), rowProbabilities);
        Check.DType(Op, nameof(rowProbabilities), rowProbabilities, DType.F32);
        Check.Rank(Op, nameof(rowProbabilities), rowProbabilities, 4, "[B, H, nRows, Nk]");
        var shape = rowProbabilities.Shape;
        if ((uint)row >= (uint)shape[2])
            ThrowHelper.OutOfRange(Op, nameof(row), row, $"must index one of the {shape[2]} exported rows (rowProbabilities {shape})");
        if (shape[3] < 1) ThrowHelper.Argument(Op, nameof(rowProbabilities), $"has shape {shape}; Nk must include the [CLS] key");
        using var rowView = rowProbabilities.Narrow(2, row, 1);
        using var patches = rowView.Narrow(3, 1, shape[3] - 1);
        using var dense = patches.Contiguous();
        using var perHead = dense.Reshape(shape[0], shape[1], shape[3] - 1);
        return combine == HeadCombine.Sum ? Reductions.Sum(perHead, 1) : Reductions.Mean(perHead, 1);
    }

    /// <summary>
    /// Sum over layers of <see cref="ClassRow"/> (VTC-CLS's ensemble of <c>attentions[L0:-1]</c>), each layer's
    /// F32 [B, H, nRows, Nk] with the same shape. Returns F32 [B, Nk - 1].
    /// </summary>
    public static Tensor ClassRowSum(IReadOnlyList<Tensor> rowProbabilities, int row = 0)
    {
        const string Op = "AttentionScores.ClassRowSum";
        ArgumentNullException.ThrowIfNull(rowProbabilities);
        if (rowProbabilities.Count == 0) ThrowHelper.Argument(Op, nameof(rowProbabilities), "is empty; pass at least one layer");
        for (int l = 1; l < rowProbabilities.Count; l++)
        {
            Check.Live(Op, $"rowProbabilities[{l}]", rowProbabilities[l]);
            Check.Shape(Op, $"rowProbabilities[{l}]", rowProbabilities[l], rowProbabilities[0].Shape, "every layer's shape must match layer 0's");
        }
        var total = ClassRow(rowProbabilities[0], row);
        try
        {
            for (int l = 1; l < rowProbabilities.Count; l++)
            {
                using var next = ClassRow(rowProbabilities[l], row);
                Elementwise.Add(total, next, total);
            }
            return total;
        }
        catch
        {
            total.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Attention received, averaged over heads and queries (HiPrune's column mean <c>mean_h mean_i A[:, h, i, :]</c>):
    /// <paramref name="keyTotals"/> F32 [B, H, Nk] (the kernel's KeyTotals, summed over <paramref name="queries"/>
    /// queries), dropping the first <paramref name="skipLeading"/> keys (1 for a [CLS] token). Returns F32 [B, Nk - skip].
    /// </summary>
    public static Tensor Received(Tensor keyTotals, int queries, int skipLeading = 1)
    {
        const string Op = "AttentionScores.Received";
        Check.Live(Op, nameof(keyTotals), keyTotals);
        Check.DType(Op, nameof(keyTotals), keyTotals, DType.F32);
        Check.Rank(Op, nameof(keyTotals), keyTotals, 3, "[B, H, Nk]");
        if (queries < 1) ThrowHelper.OutOfRange(Op, nameof(queries), queries, "must be >= 1");
        var shape = keyTotals.Shape;
        if (skipLeading < 0 || skipLeading > shape[2])
            ThrowHelper.OutOfRange(Op, nameof(skipLeading), skipLeading, $"must be in [0, Nk] (keyTotals {shape})");
        using var keys = keyTotals.Narrow(2, skipLeading, shape[2] - skipLeading);
        using var dense = keys.Contiguous();
        var mean = Reductions.Mean(dense, 1);
        Elementwise.Scale(mean, 1f / queries, mean);
        return mean;
    }

    /// <summary>
    /// Attention received from full per-layer probabilities (the eager path for small N, e.g. HF
    /// <c>output_attentions</c>): <c>mean_h mean_i P[:, h, i, skip:]</c> over <paramref name="probabilities"/> F32
    /// [B, H, Nq, Nk]. Returns F32 [B, Nk - skip]; equals <see cref="Received"/> of the kernel's KeyTotals.
    /// </summary>
    public static Tensor ReceivedFromRows(Tensor probabilities, int skipLeading = 1)
    {
        const string Op = "AttentionScores.ReceivedFromRows";
        Check.Live(Op, nameof(probabilities), probabilities);
        Check.DType(Op, nameof(probabilities), probabilities, DType.F32);
        Check.Rank(Op, nameof(probabilities), probabilities, 4, "[B, H, Nq, Nk]");
        var shape = probabilities.Shape;
        if (skipLeading < 0 || skipLeading > shape[3])
            ThrowHelper.OutOfRange(Op, nameof(skipLeading), skipLeading, $"must be in [0, Nk] (probabilities {shape})");
        using var keys = probabilities.Narrow(3, skipLeading, shape[3] - skipLeading);
        using var dense = keys.Contiguous();
        using var perHead = Reductions.Mean(dense, 2);
        return Reductions.Mean(perHead, 1);
    }
}
