// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit.Reducers;

using HpcCore.Tensors;
using HpcCore.TokenReduction;

/// <summary>
/// ToDRE's stage 1 (methods.md 3.8) inside a classifier ViT: at each pruning block keep ceil(keep P) diverse patches by
/// greedy k-center under cosine distance over the block's tokens (after the attention residual), seeded at the patch
/// the [CLS] token attends to most (mean over heads, the kernel's [CLS]-row export). Stage 2 (dropping visual tokens
/// the text no longer attends to inside the LLM) needs text tokens and has no counterpart in a classifier.
/// </summary>
public sealed class ToDreReducer(double keep, int[] layers, int depth) : PatchPruneReducer(layers, depth)
{
    private readonly double _keep = CheckKeep(keep, "ToDreReducer");

    /// <inheritdoc />
    public override string Name => $"todre:keep={_keep};layers={string.Join(",", Layers)}";

    /// <inheritdoc />
    protected override int KeptPatches(int layer, int patches) => Prunes(layer) ? Ratio(_keep, patches) : patches;

    /// <inheritdoc />
    public override VitScoreExports Exports(int layer) => Prunes(layer) ? VitScoreExports.ClassRow : VitScoreExports.None;

    /// <inheritdoc />
    protected override Tensor SelectPatches(in VitReductionStep step, int keep)
    {
        using var saliency = AttentionScores.ClassRow(step.ClassRow!);
        using var features = Patches(step);
        return ToDre.Diverse(features, keep, saliency);
    }
}
