// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.TokenReduction;

/// <summary>Options of <see cref="HiPrune.Select"/>; <c>default</c> is the paper's alpha = 0.1 with true 2-D neighbours.</summary>
/// <param name="AnchorRatio">alpha: round(keep alpha / 5) anchors (each with up to 4 buffers); 0 means 0.1.</param>
/// <param name="WrapRows">
/// Reproduce the released code's neighbours: a +- 1 and a +- W without a row-boundary check, clamped to [0, P - 1]
/// (a token at a row end gets the next row's first token). Default: only true 4-neighbours on the grid.
/// </param>
public readonly record struct HiPruneOptions(double AnchorRatio = 0, bool WrapRows = false)
{
    /// <summary>alpha when <see cref="AnchorRatio"/> is 0.</summary>
    public const double DefaultAnchorRatio = 0.1;
}
