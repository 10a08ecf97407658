// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Commands.Vit;

using HpcCore.Models.Images;
using HpcCore.Models.Vit;
using SkiaSharp;

/// <summary>
/// `vit eval --visualize`: ToMe-style merge maps (Bolya et al., figure 4). For each reducing method (one row) and each
/// sample image (one column), every patch is tinted by the final token it ended in (source tracking), borders are drawn
/// between patches of different tokens, and pruned patches are darkened. A key under the maps says so.
/// </summary>
internal static class VitMergeMaps
{
    private const int Scale = 4, Samples = 8, Label = 18, Key = 24;

    /// <summary>Draws the maps of <paramref name="specs"/> (the baseline rows are skipped) into <paramref name="path"/>.</summary>
    public static void Draw(VitWeights weights, ImageSet images, IReadOnlyList<VitMethodSpec> specs, string path)
    {
        var c = weights.Config;
        int n = Math.Min(Samples, images.Count), px = c.Channels * c.ImageSize * c.ImageSize, cell = c.ImageSize * Scale;
        var rows = specs.Where(s => s.Name is not ("baseline" or "none")).ToList();
        int mapsHeight = Math.Max(1, rows.Count) * (cell + Label + 4) + 4;
        using var surface = SKSurface.Create(new SKImageInfo(Math.Max(n * (cell + 4) + 4, 640), mapsHeight + Key));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var font = new SKFont(SKTypeface.Default, 13);
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        var input = new float[n * px];
        for (int i = 0; i < n; i++) ImageTensor.Write(images.Image(i), images.Height, images.Width, c, input.AsSpan(i * px, px));
        for (int r = 0; r < rows.Count; r++)
        {
            var reducer = VitReducers.Create(rows[r], c)!;
            try
            {
                using var session = new VitSession(weights, n, reducer, trackSources: true);
                session.Forward(input);
                int top = 4 + r * (cell + Label + 4);
                canvas.DrawText($"{rows[r].Text}: {session.TokensAfterReduction[^1]} tokens left", 4, top + 13, font, text);
                for (int i = 0; i < n; i++)
                    DrawCell(canvas, images.Image(i), images.Height, images.Width, c, session.Sources!.AsSpan(i * c.Patches, c.Patches),
                        4 + i * (cell + 4), top + Label);
            }
            finally
            {
                reducer?.Dispose();
            }
        }
        DrawKey(canvas, mapsHeight, font, text);
        using var png = surface.Snapshot().Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        png.SaveTo(file);
    }

    // The key: a swatch and a phrase for each mark the cells use.
    private static void DrawKey(SKCanvas canvas, int top, SKFont font, SKPaint text)
    {
        using var fill = new SKPaint();
        using var edge = new SKPaint { Color = new SKColor(255, 255, 255, 200), StrokeWidth = 1 };
        float x = 4, y = top + 4;
        void Swatch(SKColor color, string phrase, bool border = false)
        {
            fill.Color = new SKColor(128, 128, 128);
            canvas.DrawRect(x, y, 14, 14, fill);
            fill.Color = color;
            canvas.DrawRect(x, y, 14, 14, fill);
            if (border) canvas.DrawLine(x + 7, y, x + 7, y + 14, edge);
            canvas.DrawText(phrase, x + 18, y + 12, font, text);
            x += 18 + font.MeasureText(phrase) + 16;
        }
        Swatch(SKColor.FromHsv(200, 80, 100, 110), "merged patches (one tint per token)");
        Swatch(new SKColor(120, 0, 0, 170), "pruned");
        Swatch(SKColors.Transparent, "token border", border: true);
        Swatch(SKColors.Transparent, "untinted: a patch kept alone");
    }

    private static void DrawCell(SKCanvas canvas, ReadOnlySpan<byte> image, int h, int w, VitConfig c, ReadOnlySpan<int> groups, int left, int top)
    {
        int g = c.Grid, p = c.PatchSize * Scale;
        using var fill = new SKPaint();
        // Grey image, nearest-neighbour upscaled (the model sees it resized to ImageSize; Fashion-MNIST needs none).
        for (int y = 0; y < c.ImageSize; y++)
            for (int x = 0; x < c.ImageSize; x++)
            {
                byte v = image[(y * h / c.ImageSize) * w + x * w / c.ImageSize];
                fill.Color = new SKColor(v, v, v);
                canvas.DrawRect(left + x * Scale, top + y * Scale, Scale, Scale, fill);
            }
        var sizes = new Dictionary<int, int>();
        foreach (int t in groups) sizes[t] = sizes.GetValueOrDefault(t) + 1;
        using var edge = new SKPaint { Color = new SKColor(255, 255, 255, 200), StrokeWidth = 1 };
        for (int gy = 0; gy < g; gy++)
            for (int gx = 0; gx < g; gx++)
            {
                int t = groups[gy * g + gx];
                float x0 = left + gx * p, y0 = top + gy * p;
                if (t < 0)
                {
                    fill.Color = new SKColor(120, 0, 0, 170);
                    canvas.DrawRect(x0, y0, p, p, fill);
                    continue;
                }
                if (sizes[t] > 1)
                {
                    fill.Color = SKColor.FromHsv(t * 137.508f % 360, 80, 100, 110);
                    canvas.DrawRect(x0, y0, p, p, fill);
                }
                if (gx + 1 < g && groups[gy * g + gx + 1] != t) canvas.DrawLine(x0 + p, y0, x0 + p, y0 + p, edge);
                if (gy + 1 < g && groups[(gy + 1) * g + gx] != t) canvas.DrawLine(x0, y0 + p, x0 + p, y0 + p, edge);
            }
    }
}
