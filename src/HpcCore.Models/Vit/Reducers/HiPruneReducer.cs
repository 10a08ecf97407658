// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit.Reducers;

using HpcCore.Tensors;
using HpcCore.TokenReduction;

/// <summary>
/// HiPrune (methods.md 3.6) inside a classifier ViT, at one block L on the full patch grid: anchors = the patches
/// receiving the most attention (mean over heads and queries) in an object-centric middle block, buffers = their
/// 4-neighbours, registers = the patches receiving the most attention at block L fill the budget of ceil(keep P).
/// Attention received is the kernel's KeyTotals export at both blocks (the middle block's is kept by
/// <see cref="Observe"/>). The paper's middle block is 9 of CLIP-L's 24 (about 3/8 of the depth); the default here is
/// L/2.
/// </summary>
public sealed class HiPruneReducer : PatchPruneReducer
{
    private readonly double _keep;
    private readonly int _objectLayer;
    private readonly HiPruneOptions _options;
    private Tensor? _objectScores;

    /// <summary>Keeps the fraction <paramref name="keep"/> at <paramref name="layer"/>, anchors from <paramref name="objectLayer"/>.</summary>
    public HiPruneReducer(double keep, int layer, int objectLayer, int depth, in HiPruneOptions options = default) : base([layer], depth)
    {
        _keep = CheckKeep(keep, "HiPruneReducer");
        if (objectLayer < 0 || objectLayer > layer)
            throw new ArgumentOutOfRangeException(nameof(objectLayer), objectLayer, $"HiPruneReducer: the object block must be in [0, {layer}]");
        _objectLayer = objectLayer;
        _options = options;
    }

    /// <inheritdoc />
    public override string Name => $"hiprune:keep={_keep};layer={Layers[0]};object={_objectLayer}";

    /// <inheritdoc />
    protected override int KeptPatches(int layer, int patches) => Prunes(layer) ? Ratio(_keep, patches) : patches;

    /// <inheritdoc />
    public override VitScoreExports Exports(int layer) =>
        layer == _objectLayer || Prunes(layer) ? VitScoreExports.KeyTotals : VitScoreExports.None;

    /// <inheritdoc />
    public override void Observe(in VitReductionStep step)
    {
        _objectScores?.Dispose();
        _objectScores = AttentionScores.Received(step.KeyTotals!, step.Input.Shape[1]);
    }

    /// <inheritdoc />
    protected override Tensor SelectPatches(in VitReductionStep step, int keep)
    {
        int t = step.Input.Shape[1];
        using var deep = AttentionScores.Received(step.KeyTotals!, t);
        var objects = _objectLayer == step.Layer ? deep : _objectScores!;
        return HiPrune.Select(objects, deep, keep, GridWidth(t - 1), _options);
    }

    /// <summary>Releases the kept object-block scores.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _objectScores?.Dispose();
        base.Dispose(disposing);
    }
}
