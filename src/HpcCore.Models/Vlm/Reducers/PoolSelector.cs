// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm.Reducers;

using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>
/// Baseline: uniform average pooling of each view's patch grid (torch AdaptiveAvgPool2d, the core
/// <see cref="Pooling.AdaptiveAvg2D(Tensor, int, int)"/>) to the largest oh x ow grid with views x oh x ow within the
/// budget; a pooled token takes the RoPE position of its window's first patch.
/// </summary>
public sealed class PoolSelector : IVlmVisualReducer
{
    /// <inheritdoc />
    public string Name => "pool";

    /// <summary>The pooled grid for <paramref name="perView"/> tokens per view on a <paramref name="grid"/>-wide grid.</summary>
    public static (int Rows, int Cols) GridFor(int perView, int grid)
    {
        int rows = Math.Clamp((int)Math.Floor(Math.Sqrt(perView)), 1, grid);
        int cols = Math.Clamp(perView / rows, 1, grid);
        return (rows, cols);
    }

    /// <inheritdoc />
    public VlmKept Reduce(in VlmVisualInput input, int budget)
    {
        var v = input.Vision;
        int g = v.Grid, d = v.Dim, p = v.Patches;
        var (oh, ow) = GridFor(Math.Max(1, budget / v.Views), g);
        using var x = Tensor.From<float>(v.Features, new Shape(v.Views, g, g, d), input.Backend);
        using var pooled = Pooling.AdaptiveAvg2D(x, oh, ow);
        var positions = new int[v.Views * oh * ow];
        for (int view = 0; view < v.Views; view++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                    positions[(view * oh + i) * ow + j] = view * p + i * g / oh * g + j * g / ow;
        return new VlmKept(null, pooled.ToArray<float>(), positions);
    }
}
