// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.TokenReduction;

/// <summary>
/// Options of <see cref="HiRed.Select"/>. <c>default</c> is the released scripts' setting: 20% budget, half of it for
/// the thumbnail, a square crop grid, true 2-D crop regions.
/// </summary>
/// <param name="BudgetRate">Kept fraction of all tokens (<c>token_budget_rate</c>); 0 means 0.2.</param>
/// <param name="ThumbnailShare">alpha: the thumbnail's share of the budget; 0 means 0.5.</param>
/// <param name="CropRows">Rows of the crop grid; 0 (with <paramref name="CropColumns"/> 0) means a square grid.</param>
/// <param name="CropColumns">Columns of the crop grid.</param>
/// <param name="BandSplit">
/// Reproduce the released code's <c>m.reshape(rows, cols, -1).sum(-1)</c>: the row-major thumbnail vector is cut into
/// rows x cols contiguous chunks (horizontal bands), not 2-D blocks. Default: the paper's spatial correspondence.
/// </param>
public readonly record struct HiRedOptions(
    double BudgetRate = 0,
    double ThumbnailShare = 0,
    int CropRows = 0,
    int CropColumns = 0,
    bool BandSplit = false)
{
    /// <summary>Budget rate when <see cref="BudgetRate"/> is 0.</summary>
    public const double DefaultBudgetRate = 0.2;

    /// <summary>alpha when <see cref="ThumbnailShare"/> is 0.</summary>
    public const double DefaultThumbnailShare = 0.5;
}
