// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Images;

using HpcCore.Models.Vit;

/// <summary>
/// Turns 8-bit pixels into a model's input: resize (bilinear, shorter side to the model's size, then a centre crop,
/// as timm's eval transform without its 0.875 crop ratio), scale to [0, 1], then normalise per channel with the
/// model's mean and standard deviation, written channel-first [C, H, W].
/// </summary>
public static class ImageTensor
{
    /// <summary>
    /// Writes <paramref name="pixels"/> (interleaved [H, W, C], C = the model's channels) into
    /// <paramref name="destination"/> [C, S, S], S the model's image size.
    /// </summary>
    public static void Write(ReadOnlySpan<byte> pixels, int height, int width, VitConfig config, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(config);
        int c = config.Channels, s = config.ImageSize;
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if (pixels.Length != (long)height * width * c)
            throw new ArgumentException($"ImageTensor.Write: pixels has {pixels.Length} bytes; [H={height}, W={width}, C={c}] needs {(long)height * width * c}", nameof(pixels));
        if (destination.Length != c * s * s)
            throw new ArgumentException($"ImageTensor.Write: destination has {destination.Length} values; [C={c}, {s}, {s}] needs {c * s * s}", nameof(destination));
        // Scale so that the shorter side becomes s, then take the central s x s window (pixel-centre sampling).
        double scale = (double)Math.Min(height, width) / s;
        double offY = (height - s * scale) / 2, offX = (width - s * scale) / 2;
        for (int ch = 0; ch < c; ch++)
        {
            float inv = 1f / (255f * config.Std[ch]), shift = config.Mean[ch] / config.Std[ch];
            var plane = destination.Slice(ch * s * s, s * s);
            for (int y = 0; y < s; y++)
            {
                double sy = Math.Clamp(offY + (y + 0.5) * scale - 0.5, 0, height - 1);
                int y0 = (int)sy, y1 = Math.Min(y0 + 1, height - 1);
                float fy = (float)(sy - y0);
                for (int x = 0; x < s; x++)
                {
                    double sx = Math.Clamp(offX + (x + 0.5) * scale - 0.5, 0, width - 1);
                    int x0 = (int)sx, x1 = Math.Min(x0 + 1, width - 1);
                    float fx = (float)(sx - x0);
                    float top = pixels[(y0 * width + x0) * c + ch] * (1 - fx) + pixels[(y0 * width + x1) * c + ch] * fx;
                    float bottom = pixels[(y1 * width + x0) * c + ch] * (1 - fx) + pixels[(y1 * width + x1) * c + ch] * fx;
                    plane[y * s + x] = (top * (1 - fy) + bottom * fy) * inv - shift;
                }
            }
        }
    }
}
