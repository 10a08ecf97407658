// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm.Reducers;

using HpcCore.TokenReduction;

/// <summary>
/// Baseline FastV (Chen et al., ECCV 2024): after decoder layer K, rank the visual tokens by the attention the last
/// token pays them (mean over heads, as the released code's <c>last_layer_attention_avg_last_tok</c>) and keep the
/// top ones (<see cref="VtcCls.Select"/> as the top-K) for every later layer.
/// </summary>
public sealed class FastVReducer(int afterLayer) : IVlmLayerReducer
{
    /// <summary>Visual tokens kept after layer K (set per run from the budget).</summary>
    public int Budget { get; set; }

    /// <inheritdoc />
    public string Name => $"fastv:after={afterLayer}";

    /// <inheritdoc />
    public VlmLayerExports Exports(int layer) => layer == afterLayer ? VlmLayerExports.TextRows : VlmLayerExports.None;

    /// <inheritdoc />
    public int[]? Keep(in VlmLayerStep step)
    {
        var isVisual = step.IsVisual;
        var visualIdx = Enumerable.Range(0, isVisual.Length).Where(i => isVisual[i]).ToArray();
        if (step.TextRows is null || visualIdx.Length == 0) return null;
        int t = step.IsVisual.Length, h = step.Heads, last = step.TextRowCount - 1;
        var score = new float[visualIdx.Length];
        for (int j = 0; j < visualIdx.Length; j++)
        {
            double s = 0;
            for (int head = 0; head < h; head++) s += step.TextRows[(head * step.TextRowCount + last) * t + visualIdx[j]];
            score[j] = (float)(s / h);
        }
        using var scores = VisualScores.Row(score, step.Backend);
        var chosen = VisualScores.Take(VtcCls.Select(scores, Math.Min(Budget, visualIdx.Length)));
        return ToDreRelevanceReducer.Merge(step.IsVisual, visualIdx, chosen);
    }
}
