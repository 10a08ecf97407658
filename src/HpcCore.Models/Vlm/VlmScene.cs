// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm;

/// <summary>
/// A 2 x 2 grid scene of 28 x 28 Fashion-MNIST items (56 x 56 pixels, tools/train/vlm/scenes.py) and the ViT views of
/// it: base mode is the scene average-pooled 2 x 2 to one 28 x 28 thumbnail; high-resolution mode (LLaVA-NeXT's
/// AnyRes) is the thumbnail followed by the four full-resolution cells as crops, row-major.
/// </summary>
public static class VlmScene
{
    /// <summary>Cells per side.</summary>
    public const int Grid = 2;

    /// <summary>Pixels per cell side (the ViT's input size).</summary>
    public const int Cell = 28;

    /// <summary>Pixels per scene side.</summary>
    public const int Side = Grid * Cell;

    /// <summary>Fashion-MNIST pixel statistics the ViT was trained with.</summary>
    public const float Mean = 0.2860f, Std = 0.3530f;

    /// <summary>The scene in [0, 1], [Side, Side], from item images (u8 28 x 28 each; null: an empty cell), row-major.</summary>
    public static float[] Render(IReadOnlyList<byte[]?> cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Count != Grid * Grid) throw new ArgumentException($"VlmScene.Render: {cells.Count} cells; a scene has {Grid * Grid}", nameof(cells));
        var img = new float[Side * Side];
        for (int i = 0; i < cells.Count; i++)
        {
            if (cells[i] is not { } px) continue;
            if (px.Length != Cell * Cell) throw new ArgumentException($"VlmScene.Render: cell {i} has {px.Length} pixels; expected {Cell * Cell}", nameof(cells));
            int r = i / Grid, c = i % Grid;
            for (int y = 0; y < Cell; y++)
                for (int x = 0; x < Cell; x++)
                    img[(r * Cell + y) * Side + c * Cell + x] = px[y * Cell + x] / 255f;
        }
        return img;
    }

    /// <summary>Views of a scene: 1 (base) or 1 + Grid^2 (high resolution).</summary>
    public static int ViewCount(bool highRes) => highRes ? 1 + Grid * Grid : 1;

    /// <summary>Normalised ViT inputs [views, Cell, Cell] of <paramref name="scene"/> [Side, Side] in [0, 1].</summary>
    public static float[] Views(ReadOnlySpan<float> scene, bool highRes)
    {
        if (scene.Length != Side * Side) throw new ArgumentException($"VlmScene.Views: scene has {scene.Length} pixels; expected {Side}x{Side}", nameof(scene));
        int px = Cell * Cell;
        var views = new float[ViewCount(highRes) * px];
        for (int y = 0; y < Cell; y++)
            for (int x = 0; x < Cell; x++)
            {
                // Python's mean over the 2 x 2 block: ((a + b) + c) + d in float32, then / 4.
                float s = scene[2 * y * Side + 2 * x] + scene[2 * y * Side + 2 * x + 1];
                s += scene[(2 * y + 1) * Side + 2 * x];
                s += scene[(2 * y + 1) * Side + 2 * x + 1];
                views[y * Cell + x] = (s / 4f - Mean) / Std;
            }
        if (!highRes) return views;
        for (int i = 0; i < Grid * Grid; i++)
        {
            int r = i / Grid, c = i % Grid;
            for (int y = 0; y < Cell; y++)
                for (int x = 0; x < Cell; x++)
                    views[(1 + i) * px + y * Cell + x] = (scene[(r * Cell + y) * Side + c * Cell + x] - Mean) / Std;
        }
        return views;
    }
}
