// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit.Reducers;

using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.TokenReduction;

/// <summary>
/// VTC-CLS-style [CLS] pruning (methods.md 3.4) inside a classifier ViT: at one block, keep the patches with the highest
/// [CLS] attention (mean over heads) in their spatial order and drop the rest without fusion. VTC-CLS sums the [CLS]
/// rows of several layers; this uses the pruning block's own row (FasterVLM's single-layer variant), since earlier
/// blocks' rows are not kept.
/// </summary>
public sealed class ClassPruneReducer(double keep, int pruneLayer) : IVitTokenReducer
{
    /// <inheritdoc />
    public string Name => $"vtc:keep={keep};layer={pruneLayer}";

    /// <inheritdoc />
    public bool TracksSizes => false;

    /// <summary>Patches kept out of <paramref name="patches"/>.</summary>
    public int KeepCount(int patches) => Math.Max(1, (int)Math.Ceiling(keep * patches));

    /// <inheritdoc />
    public int TokensAfter(int layer, int tokens) => layer == pruneLayer ? 1 + KeepCount(tokens - 1) : tokens;

    /// <inheritdoc />
    public VitScoreExports Exports(int layer) => VitScoreExports.ClassRow;

    /// <inheritdoc />
    public void Reduce(in VitReductionStep step)
    {
        int batch = step.Input.Shape[0], t = step.Input.Shape[1], k = KeepCount(t - 1);
        using var scores = AttentionScores.ClassRow(step.ClassRow!);
        using var chosen = VtcCls.Select(scores, k);
        KeptRows.Gather(step, chosen, batch, t, k);
    }
}
