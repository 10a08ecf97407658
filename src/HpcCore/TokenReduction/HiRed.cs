// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// HiRED (Arif et al., AAAI 2025; methods.md 3.5) for AnyRes inputs (LLaVA-NeXT): partition 0 is the thumbnail,
// 1..n the crops. The budget is split between the thumbnail (share alpha) and the crops in proportion to where the
// thumbnail's most-attended tokens (early layer, [CLS] row) fall; inside every partition the tokens with the highest
// final-layer [CLS] attention are kept.
namespace HpcCore.TokenReduction;

using HpcCore.Diagnostics;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>HiRED budget allocation and per-partition selection.</summary>
public static class HiRed
{
    /// <summary>
    /// Budgets and selections for <paramref name="initial"/> and <paramref name="final"/> F32 [parts, P] (the [CLS] row of
    /// ViT layer 0 and of the feature layer, summed or averaged over heads: <see cref="AttentionScores.ClassRow"/>).
    /// Returns the kept patch indices I32 [parts, P] of every partition, ascending and padded with -1, and the
    /// per-partition counts I32 [parts].
    /// </summary>
    public static (Tensor Indices, Tensor Counts) Select(Tensor initial, Tensor final, in HiRedOptions options = default)
    {
        const string Op = "HiRed.Select";
        Check.Input(Op, nameof(initial), initial, DType.F32, 2, "[parts, P]");
        Check.Operand(Op, nameof(final), final, initial, nameof(initial), DType.F32);
        Check.Shape(Op, nameof(final), final, initial.Shape, "same as initial", initial, nameof(initial));
        int parts = initial.Shape[0], p = initial.Shape[1];
        if (parts < 1 || p < 1) ThrowHelper.Argument(Op, nameof(initial), $"has shape {initial.Shape}; expected a thumbnail and patches");
        double rate = options.BudgetRate == 0 ? HiRedOptions.DefaultBudgetRate : options.BudgetRate;
        double alpha = options.ThumbnailShare == 0 ? HiRedOptions.DefaultThumbnailShare : options.ThumbnailShare;
        if (!(rate > 0 && rate <= 1)) ThrowHelper.OutOfRange(Op, "options.BudgetRate", options.BudgetRate, "must be in [0, 1]");
        if (!(alpha > 0 && alpha <= 1)) ThrowHelper.OutOfRange(Op, "options.ThumbnailShare", options.ThumbnailShare, "must be in [0, 1]");
        var (rows, cols) = CropGrid(Op, parts - 1, options);
        int side = (int)Math.Round(Math.Sqrt(p));
        if (!options.BandSplit && side * side != p)
            ThrowHelper.Argument(Op, nameof(initial), $"has shape {initial.Shape}; 2-D crop regions need a square patch grid (or BandSplit)");
        if (options.BandSplit && rows * cols > 0 && p % (rows * cols) != 0)
            ThrowHelper.Argument(Op, nameof(initial), $"has shape {initial.Shape}; BandSplit needs P divisible by {rows * cols} crops");

        // Budgets (integer truncation as in the released code).
        int total = (int)(parts * p * rate);
        int full = Math.Min((int)(total * alpha), p);
        int sub = Math.Min(total - full, (parts - 1) * p);
        var budget = new int[parts];
        budget[0] = full;
        if (parts > 1)
        {
            int located = Math.Min((int)(p * (1 - alpha)), p);
            var cropCount = new int[parts - 1];
            int[] seen = [];
            try
            {
                using (var thumb = initial.Narrow(0, 0, 1))
                using (var idx = TopK.Indices(thumb, located))
                    seen = HostIndex.Read<int>(idx);
                for (int i = 0; i < located; i++)
                {
                    int t = seen[i];
                    int crop = options.BandSplit
                        ? t / (p / (rows * cols))
                        : t / side * rows / side * cols + t % side * cols / side;
                    cropCount[crop]++;
                }
            }
            finally
            {
                if (seen.Length > 0) HostIndex.Return(seen);
            }
            int sum = cropCount.Sum();
            for (int c = 1; c < parts; c++)
                budget[c] = sum == 0 ? 0 : Math.Min((int)((double)cropCount[c - 1] / sum * sub), p);
        }

        int most = budget.Max();
        int[] order = [];
        var indices = HostIndex.Rent<int>((long)parts * p);
        try
        {
            using (var idx = TopK.Indices(final, most)) order = HostIndex.Read<int>(idx);
            for (int part = 0; part < parts; part++)
            {
                var row = indices.AsSpan(part * p, p);
                row.Fill(-1);
                order.AsSpan(part * most, budget[part]).CopyTo(row);
                row[..budget[part]].Sort();
            }
            var selected = HostIndex.Upload(indices, new Shape(parts, p), initial);
            try
            {
                return (selected, Tensor.From<int>(budget, new Shape(parts), initial.Backend));
            }
            catch
            {
                selected.Dispose();
                throw;
            }
        }
        finally
        {
            if (order.Length > 0) HostIndex.Return(order);
            HostIndex.Return(indices);
        }
    }

    private static (int Rows, int Cols) CropGrid(string op, int crops, in HiRedOptions options)
    {
        if (options.CropRows == 0 && options.CropColumns == 0)
        {
            int side = (int)Math.Round(Math.Sqrt(crops));
            if (side * side != crops)
                ThrowHelper.Argument(op, "options", $"gives no crop grid and {crops} crops are not a square; set CropRows and CropColumns");
            return (side, side);
        }
        if (options.CropRows < 1 || options.CropColumns < 1 || options.CropRows * options.CropColumns != crops)
            ThrowHelper.Argument(op, "options", $"has a {options.CropRows} x {options.CropColumns} crop grid but there are {crops} crops");
        return (options.CropRows, options.CropColumns);
    }
}
