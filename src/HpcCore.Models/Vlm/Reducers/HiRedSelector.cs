// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm.Reducers;

using HpcCore.Tensors;
using HpcCore.TokenReduction;

/// <summary>
/// HiRED (methods.md 3.5) in the AnyRes layout: the thumbnail's block-0 [CLS] attention splits the budget among the
/// crops (the thumbnail keeps share alpha), and each partition keeps its patches with the highest last-block [CLS]
/// attention (<see cref="HiRed.Select"/>). On a single view (base mode) the whole budget goes to it (alpha = 1).
/// </summary>
public sealed class HiRedSelector(double thumbnailShare) : IVlmVisualReducer
{
    /// <inheritdoc />
    public string Name => $"hired:alpha={thumbnailShare}";

    /// <inheritdoc />
    public VlmKept Reduce(in VlmVisualInput input, int budget)
    {
        var v = input.Vision;
        int parts = v.Views, p = v.Patches;
        using var initial = Tensor.From<float>(v.ClassRows[0], new Shape(parts, p), input.Backend);
        using var final = Tensor.From<float>(v.ClassRows[^1], new Shape(parts, p), input.Backend);
        int crops = parts - 1, side = (int)Math.Round(Math.Sqrt(crops));
        // The budget rate from the token count; a hair above it so HiRED's integer truncation lands on the budget.
        double rate = Math.Min(1, (budget + 0.5) / (parts * (double)p));
        var options = new HiRedOptions(BudgetRate: rate, ThumbnailShare: parts == 1 ? 1 : thumbnailShare,
            CropRows: crops == 0 ? 0 : side, CropColumns: crops == 0 ? 0 : side);
        var (indices, counts) = HiRed.Select(initial, final, options);
        int[] idx, cnt;
        using (indices) idx = indices.ToArray<int>();
        using (counts) cnt = counts.ToArray<int>();
        var kept = new List<int>();
        for (int part = 0; part < parts; part++)
            for (int i = 0; i < cnt[part]; i++) kept.Add(part * p + idx[part * p + i]);
        return VlmKept.Select([.. kept]);
    }
}
