// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit.Reducers;

using HpcCore.Tensors;
using HpcCore.TokenReduction;

/// <summary>
/// FoPru (methods.md 3.7, reconstructed) inside a classifier ViT, at one block on the full patch grid: significance =
/// the block's [CLS] attention (mean over heads, the kernel's [CLS]-row export); the rank strategy keeps the ceil(keep P)
/// most significant patches, the row strategy whole grid rows by summed significance; kept patches stay in order.
/// </summary>
public sealed class FoPruReducer(double keep, int layer, int depth, FoPruStrategy strategy = FoPruStrategy.Rank)
    : PatchPruneReducer([layer], depth)
{
    private readonly double _keep = CheckKeep(keep, "FoPruReducer");

    /// <inheritdoc />
    public override string Name => $"fopru:keep={_keep};layer={Layers[0]};strategy={strategy.ToString().ToLowerInvariant()}";

    /// <inheritdoc />
    protected override int KeptPatches(int layer, int patches) => Prunes(layer) ? Ratio(_keep, patches) : patches;

    /// <inheritdoc />
    public override VitScoreExports Exports(int layer) => Prunes(layer) ? VitScoreExports.ClassRow : VitScoreExports.None;

    /// <inheritdoc />
    protected override Tensor SelectPatches(in VitReductionStep step, int keep)
    {
        using var significance = AttentionScores.ClassRow(step.ClassRow!);
        return FoPru.Select(significance, keep, GridWidth(step.Input.Shape[1] - 1), strategy);
    }
}
