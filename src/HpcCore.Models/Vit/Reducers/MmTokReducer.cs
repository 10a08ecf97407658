// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit.Reducers;

using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.TokenReduction;

/// <summary>
/// MMTok (methods.md 3.9) inside a classifier ViT: at each pruning block choose ceil(keep P) patches by greedy weighted
/// maximum coverage. A classifier has no text; its [CLS] token is the query the prediction is read from, so it takes the
/// text tokens' place: f(S) = max_{v in S} cos(CLS, v) + lambda sum_u max_{v in S} cos(u, v) over the block's tokens
/// (after the attention residual). Cosine similarities are used as they are (the paper's normalisation is not
/// recoverable, docs/TOKEN_REDUCTION.md); lambda defaults to 1.
/// </summary>
public sealed class MmTokReducer(double keep, int[] layers, int depth, float visionWeight = 1f) : PatchPruneReducer(layers, depth)
{
    private readonly double _keep = CheckKeep(keep, "MmTokReducer");

    /// <inheritdoc />
    public override string Name => $"mmtok:keep={_keep};layers={string.Join(",", Layers)};lambda={visionWeight}";

    /// <inheritdoc />
    protected override int KeptPatches(int layer, int patches) => Prunes(layer) ? Ratio(_keep, patches) : patches;

    /// <inheritdoc />
    public override VitScoreExports Exports(int layer) => VitScoreExports.None;

    /// <inheritdoc />
    protected override Tensor SelectPatches(in VitReductionStep step, int keep)
    {
        using var patches = Patches(step);
        using var clsView = step.Input.Narrow(1, 0, 1);
        using var cls = clsView.Contiguous();
        using var textVision = Similarity.Cosine(cls, patches);
        using var visionVision = Similarity.Cosine(patches, patches);
        return MmTok.Select(textVision, visionVision, keep, visionWeight);
    }
}
