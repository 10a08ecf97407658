// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit.Reducers;

using HpcCore.TokenReduction;

/// <summary>
/// Zero-TPrune (Wang et al., CVPR 2024) at one block: I-stage Weighted PageRank importance over the block's full
/// attention graph (every probability row exported by the kernel), then the S-stage similarity pruning on the keys
/// averaged over heads; [CLS] is protected and kept tokens stay in order.
/// </summary>
public sealed class ZeroTPruneReducer(double keep, int pruneLayer, int iterations = ZeroTPrune.DefaultIterations) : IVitTokenReducer
{
    /// <inheritdoc />
    public string Name => $"ztp:keep={keep};layer={pruneLayer}";

    /// <inheritdoc />
    public bool TracksSizes => false;

    // Pruned tokens split evenly between the I-stage and the S-stage. The S-stage can prune at most half of what the
    // I-stage leaves: s <= (tokens - (prune - s)) / 2, i.e. s <= tokens - prune.
    private (int ByImportance, int BySimilarity) Split(int tokens)
    {
        int prune = tokens - 1 - Math.Max(1, (int)Math.Ceiling(keep * (tokens - 1)));
        int s = Math.Min(prune / 2, tokens - prune);
        return (prune - s, s);
    }

    /// <inheritdoc />
    public int TokensAfter(int layer, int tokens)
    {
        if (layer != pruneLayer) return tokens;
        var (i, s) = Split(tokens);
        return tokens - i - s;
    }

    /// <inheritdoc />
    public VitScoreExports Exports(int layer) =>
        layer == pruneLayer ? VitScoreExports.AllRows | VitScoreExports.KeyMeans : VitScoreExports.None;

    /// <inheritdoc />
    public void Reduce(in VitReductionStep step)
    {
        int batch = step.Input.Shape[0], t = step.Input.Shape[1];
        var (pi, ps) = Split(t);
        using var importance = ZeroTPrune.Importance(step.ClassRow!, iterations);
        using var kept = ZeroTPrune.Select(importance, step.KeyMeans!, pi, ps, classToken: true);
        KeptRows.Gather(step, kept, batch, t, t - pi - ps, tokenPositions: true);
    }

    /// <summary>Nothing to release: every tensor this reducer makes lives for one call.</summary>
    public void Dispose()
    {
    }
}
