// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm.Reducers;

using HpcCore.TokenReduction;

/// <summary>
/// FoPru (methods.md 3.7) after the vision encoder: significance = the last block's [CLS] attention, kept by the rank
/// or row strategy (<see cref="FoPru.Select"/>) over the views stacked as rows of one grid.
/// </summary>
public sealed class FoPruSelector(FoPruStrategy strategy) : IVlmVisualReducer
{
    /// <inheritdoc />
    public string Name => $"fopru:{strategy.ToString().ToLowerInvariant()}";

    /// <inheritdoc />
    public VlmKept Reduce(in VlmVisualInput input, int budget)
    {
        var v = input.Vision;
        using var t = VisualScores.Row(v.ClassRows[^1], input.Backend);
        return VlmKept.Select(VisualScores.Take(FoPru.Select(t, Math.Min(budget, v.Tokens), v.Grid, strategy)));
    }
}
