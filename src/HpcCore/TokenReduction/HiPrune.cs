// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// HiPrune (methods.md 3.6): anchors = patches receiving the most attention in an object-centric middle layer, buffers =
// their 4-neighbours on the patch grid, registers = the patches receiving the most attention in the deep (feature) layer
// among the rest, filling the budget. Scores are attention received (AttentionScores.Received): no [CLS] needed.
namespace HpcCore.TokenReduction;

using HpcCore.Diagnostics;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>HiPrune anchor / buffer / register selection.</summary>
public static class HiPrune
{
    /// <summary>round(keep alpha / 5) with Python's round-half-to-even, the released code's anchor count.</summary>
    public static int AnchorCount(int keep, in HiPruneOptions options = default)
    {
        double alpha = options.AnchorRatio == 0 ? HiPruneOptions.DefaultAnchorRatio : options.AnchorRatio;
        return (int)Math.Round(keep * alpha / 5, MidpointRounding.ToEven);
    }

    /// <summary>
    /// Selects <paramref name="keep"/> patches per row from <paramref name="objectScores"/> and
    /// <paramref name="deepScores"/> F32 [B, P] on a grid <paramref name="gridWidth"/> patches wide. Returns patch indices
    /// I32 [B, keep], ascending. Anchors and buffers beyond the budget are cut (anchors first, by score).
    /// </summary>
    public static Tensor Select(Tensor objectScores, Tensor deepScores, int keep, int gridWidth, in HiPruneOptions options = default)
    {
        const string Op = "HiPrune.Select";
        Check.Input(Op, nameof(objectScores), objectScores, DType.F32, 2, "[B, P]");
        Check.Operand(Op, nameof(deepScores), deepScores, objectScores, nameof(objectScores), DType.F32);
        Check.Shape(Op, nameof(deepScores), deepScores, objectScores.Shape, "same as objectScores", objectScores, nameof(objectScores));
        int batch = objectScores.Shape[0], p = objectScores.Shape[1];
        if (keep < 0 || keep > p) ThrowHelper.OutOfRange(Op, nameof(keep), keep, $"must be in [0, P] (scores {objectScores.Shape})");
        if (gridWidth < 1 || p % gridWidth != 0)
            ThrowHelper.OutOfRange(Op, nameof(gridWidth), gridWidth, $"must be >= 1 and divide P = {p}");
        if (!(options.AnchorRatio >= 0 && options.AnchorRatio <= 1))
            ThrowHelper.OutOfRange(Op, "options.AnchorRatio", options.AnchorRatio, "must be in [0, 1]");
        int anchors = Math.Min(AnchorCount(keep, options), p);

        int[] top = [], reg = [];
        var chosen = HostIndex.Rent<int>((long)batch * Math.Max(keep, 1));
        var count = new int[batch];
        var deep = HostIndex.Read<float>(deepScores);
        var mark = new bool[p];
        try
        {
            using (var idx = TopK.Indices(objectScores, anchors)) top = HostIndex.Read<int>(idx);
            int fewest = keep;
            for (int b = 0; b < batch; b++)
            {
                Array.Clear(mark);
                var row = chosen.AsSpan(b * keep, keep);
                int c = 0;
                for (int i = 0; i < anchors; i++)
                {
                    int a = top[b * anchors + i];
                    Add(a, row, mark, ref c);
                    if (options.WrapRows)
                    {
                        Add(Math.Clamp(a - 1, 0, p - 1), row, mark, ref c);
                        Add(Math.Clamp(a + 1, 0, p - 1), row, mark, ref c);
                        Add(Math.Clamp(a - gridWidth, 0, p - 1), row, mark, ref c);
                        Add(Math.Clamp(a + gridWidth, 0, p - 1), row, mark, ref c);
                    }
                    else
                    {
                        if (a % gridWidth != 0) Add(a - 1, row, mark, ref c);
                        if (a % gridWidth != gridWidth - 1) Add(a + 1, row, mark, ref c);
                        if (a - gridWidth >= 0) Add(a - gridWidth, row, mark, ref c);
                        if (a + gridWidth < p) Add(a + gridWidth, row, mark, ref c);
                    }
                }
                count[b] = c;
                fewest = Math.Min(fewest, c);
                // Exclude the chosen tokens from the register ranking (the released code subtracts 1 from a column mean
                // in [0, 1], which can tie with an unchosen zero; -inf excludes them exactly).
                for (int t = 0; t < p; t++)
                    if (mark[t]) deep[b * p + t] = float.NegativeInfinity;
            }

            int most = keep - fewest;
            using (var masked = HostIndex.Upload(deep, deepScores.Shape, deepScores))
            using (var idx = TopK.Indices(masked, most))
                reg = HostIndex.Read<int>(idx);
            for (int b = 0; b < batch; b++)
                for (int i = 0; count[b] + i < keep; i++) chosen[b * keep + count[b] + i] = reg[b * most + i];

            using var unsorted = HostIndex.Upload(chosen, new Shape(batch, keep), objectScores);
            return Selection.SortAscending(unsorted);
        }
        finally
        {
            if (top.Length > 0) HostIndex.Return(top);
            if (reg.Length > 0) HostIndex.Return(reg);
            HostIndex.Return(chosen);
            HostIndex.Return(deep);
        }
    }

    // Appends token t to the chosen set unless it is already there or the budget (row's length) is full.
    private static void Add(int t, Span<int> row, bool[] mark, ref int count)
    {
        if (count < row.Length && !mark[t])
        {
            mark[t] = true;
            row[count++] = t;
        }
    }
}
