// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm.Reducers;

using HpcCore.Tensors;
using HpcCore.TokenReduction;

/// <summary>
/// ToDRE stage 1 (methods.md 3.8) after the vision encoder: a diverse subset of the budget's size by greedy k-center
/// over the patch features, seeded at the most salient patch (last block's [CLS] attention), <see cref="ToDre.Diverse"/>.
/// Stage 2 runs inside the LM (<see cref="ToDreRelevanceReducer"/>).
/// </summary>
public sealed class ToDreSelector : IVlmVisualReducer
{
    /// <inheritdoc />
    public string Name => "todre-diverse";

    /// <inheritdoc />
    public VlmKept Reduce(in VlmVisualInput input, int budget)
    {
        var v = input.Vision;
        using var features = Tensor.From<float>(v.Features, new Shape(1, v.Tokens, v.Dim), input.Backend);
        using var saliency = VisualScores.Row(v.ClassRows[^1], input.Backend);
        return VlmKept.Select(VisualScores.Take(ToDre.Diverse(features, Math.Min(budget, v.Tokens), saliency)));
    }
}

/// <summary>
/// ToDRE stage 2 inside the LM: after decoder layer <c>layer</c>, keep the share <c>keep</c> of the visual tokens the
/// question attends to most (attention from the text rows averaged over heads and rows, <see cref="ToDre.Relevance"/>,
/// <see cref="ToDre.SelectRelevant"/>).
/// </summary>
public sealed class ToDreRelevanceReducer(int afterLayer, double keep) : IVlmLayerReducer
{
    /// <inheritdoc />
    public string Name => $"todre-relevance:after={afterLayer};keep={keep}";

    /// <inheritdoc />
    public VlmLayerExports Exports(int layer) => layer == afterLayer ? VlmLayerExports.TextRows : VlmLayerExports.None;

    /// <inheritdoc />
    public int[]? Keep(in VlmLayerStep step)
    {
        var isVisual = step.IsVisual;
        var visualIdx = Enumerable.Range(0, isVisual.Length).Where(i => isVisual[i]).ToArray();
        if (step.TextRows is null || visualIdx.Length == 0) return null;
        int t = step.IsVisual.Length, h = step.Heads, rows = step.TextRowCount, nv = visualIdx.Length;
        // [1, H, Ttext, V]: the text rows narrowed to the visual keys.
        var tv = new float[h * rows * nv];
        for (int head = 0; head < h; head++)
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < nv; j++) tv[(head * rows + r) * nv + j] = step.TextRows[(head * rows + r) * t + visualIdx[j]];
        using var textToVision = Tensor.From<float>(tv, new Shape(1, h, rows, nv), step.Backend);
        using var relevance = ToDre.Relevance(textToVision);
        int k = Math.Max(1, (int)Math.Round(keep * nv));
        var chosen = VisualScores.Take(ToDre.SelectRelevant(relevance, k));
        return Merge(step.IsVisual, visualIdx, chosen);
    }

    /// <summary>Text tokens plus the chosen visual ones (indices into <paramref name="visualIdx"/>), ascending.</summary>
    internal static int[] Merge(bool[] isVisual, int[] visualIdx, int[] chosen)
    {
        var keep = new SortedSet<int>(Enumerable.Range(0, isVisual.Length).Where(i => !isVisual[i]));
        foreach (int c in chosen) keep.Add(visualIdx[c]);
        return [.. keep];
    }
}
