// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm;

/// <summary>
/// What the vision encoder gives the selectors for one scene: the visual tokens (last block, final LayerNorm, [CLS]
/// dropped, patches pooled per <see cref="VlmWeights.PoolFor"/>) and the per-block attention statistics over them, on the host, views in order
/// (thumbnail first).
/// </summary>
/// <param name="Views">1 (base) or 5 (thumbnail + 4 crops).</param>
/// <param name="Grid">Visual-token grid side of a view (14 / pool: 14 base, 7 high-res).</param>
/// <param name="Dim">Feature width Dv.</param>
/// <param name="Features">[Views * P, Dv].</param>
/// <param name="ClassRows">Per block: [CLS] attention to each token's patches, mean over heads, [Views * P].</param>
/// <param name="Received">Per block: attention each token's patches receive, summed over heads and queries, [Views * P].</param>
public sealed record VlmVision(int Views, int Grid, int Dim, float[] Features, float[][] ClassRows, float[][] Received)
{
    /// <summary>Visual tokens per view.</summary>
    public int Patches => Grid * Grid;

    /// <summary>All visual tokens (Views * Patches).</summary>
    public int Tokens => Views * Patches;
}
