// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// FoPru (Jiang et al., "FoPru: Focal Pruning for Efficient Large Vision-Language Models", 2024; methods.md 3.7,
// [reconstructed]). Token significance from the vision encoder's attention; the rank strategy keeps the globally most
// significant tokens, the row strategy keeps whole grid rows by total significance (contiguous local structure); kept
// tokens go back to their original order.
namespace HpcCore.TokenReduction;

using HpcCore.Diagnostics;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>FoPru's two selection strategies.</summary>
public enum FoPruStrategy
{
    /// <summary>Global top-k by significance.</summary>
    Rank = 0,

    /// <summary>Whole rows by summed significance; the budget's remainder from the next row by token significance.</summary>
    Row,
}

/// <summary>FoPru rank and row selection.</summary>
public static class FoPru
{
    /// <summary>
    /// Keeps <paramref name="keep"/> patches of <paramref name="significance"/> F32 [B, P] (e.g.
    /// <see cref="AttentionScores.ClassRow"/> of the feature layer) on a grid <paramref name="gridWidth"/> wide. Returns
    /// I32 [B, keep], ascending.
    /// </summary>
    public static Tensor Select(Tensor significance, int keep, int gridWidth, FoPruStrategy strategy = FoPruStrategy.Rank)
    {
        const string Op = "FoPru.Select";
        Check.Input(Op, nameof(significance), significance, DType.F32, 2, "[B, P]");
        int batch = significance.Shape[0], p = significance.Shape[1];
        if (keep < 0 || keep > p) ThrowHelper.OutOfRange(Op, nameof(keep), keep, $"must be in [0, P] (significance {significance.Shape})");
        if (gridWidth < 1 || p % gridWidth != 0) ThrowHelper.OutOfRange(Op, nameof(gridWidth), gridWidth, $"must be >= 1 and divide P = {p}");
        if (!Enum.IsDefined(strategy)) ThrowHelper.OutOfRange(Op, nameof(strategy), strategy, "is not a FoPruStrategy value");
        if (strategy == FoPruStrategy.Rank) return VtcCls.Select(significance, keep);

        int rows = p / gridWidth, full = keep / gridWidth, rest = keep % gridWidth;
        using var grid = significance.Reshape(batch, rows, gridWidth);
        using var rowScore = Reductions.Sum(grid, 2);
        using var rowOrder = TopK.Argsort(rowScore);
        using var tokenOrder = TopK.Argsort(grid);
        var order = HostIndex.Read<int>(rowOrder);
        var within = HostIndex.Read<int>(tokenOrder);
        var kept = HostIndex.Rent<int>((long)batch * keep);
        try
        {
            for (int b = 0; b < batch; b++)
            {
                int c = 0;
                for (int i = 0; i < full; i++)
                {
                    int row = order[b * rows + i];
                    for (int j = 0; j < gridWidth; j++) kept[b * keep + c++] = row * gridWidth + j;
                }
                if (rest > 0)
                {
                    int row = order[b * rows + full];
                    for (int j = 0; j < rest; j++) kept[b * keep + c++] = row * gridWidth + within[(b * rows + row) * gridWidth + j];
                }
                kept.AsSpan(b * keep, keep).Sort();
            }
            return HostIndex.Upload(kept, new Shape(batch, keep), significance);
        }
        finally
        {
            HostIndex.Return(order);
            HostIndex.Return(within);
            HostIndex.Return(kept);
        }
    }
}
