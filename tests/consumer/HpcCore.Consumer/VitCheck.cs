// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Consumer;

using System.Text.Json;
using HpcCore.Devices;
using HpcCore.Models.Images;
using HpcCore.Models.Vit;
using HpcCore.Models.Vit.Reducers;

/// <summary>
/// The committed Fashion-MNIST ViT (assets/vit) from the packages: the plain forward against PyTorch's logits
/// (golden.json, read here, never hard-coded), then a ToMe-reduced forward against the plain one.
/// </summary>
internal static class VitCheck
{
    // The golden tolerance of the repository's own test (VitTolerances.GoldenLogits): |ours - torch| <= 1e-3 + 1e-3 |torch|.
    private const double GoldenAtol = 1e-3, GoldenRtol = 1e-3;

    // ToMe r = 8 per block. Stated bound (measured on the committed model: 0.008 on these images, 0.07 over 200):
    // every logit within 10% of the largest plain logit, and the same prediction for all but at most one image.
    private const int R = 8;
    private const double ToMeBound = 0.1;

    public static IEnumerable<(string What, bool Ok)> Run(IBackend backend)
    {
        using var golden = JsonDocument.Parse(File.ReadAllText(RepoFiles.Find("assets/vit/golden.json")));
        var root = golden.RootElement;
        int first = root.GetProperty("first").GetInt32(), count = root.GetProperty("count").GetInt32();
        double[] expected = root.GetProperty("logits").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetDouble())).ToArray();

        using var weights = VitWeightsLoader.Load(RepoFiles.Find("assets/vit/vit-fmnist.safetensors"), backend);
        var c = weights.Config;
        var images = ImageSet.LoadIdx(Path.GetDirectoryName(RepoFiles.Find(root.GetProperty("images").GetString()!))!);
        int size = c.Channels * c.ImageSize * c.ImageSize;
        var pixels = new float[count * size];
        for (int i = 0; i < count; i++)
            ImageTensor.Write(images.Image(first + i), images.Height, images.Width, c, pixels.AsSpan(i * size, size));

        float[] plain;
        using (var session = new VitSession(weights, count))
            plain = session.Forward(pixels).ToArray<float>();
        double worst = 0;
        bool within = plain.Length == expected.Length;
        for (int i = 0; i < Math.Min(plain.Length, expected.Length); i++)
        {
            double err = Math.Abs(plain[i] - expected[i]);
            worst = Math.Max(worst, err);
            within &= err <= GoldenAtol + GoldenRtol * Math.Abs(expected[i]);
        }
        yield return ($"ViT {count} images vs PyTorch golden, max |err| {worst:E1}", within);

        float[] merged;
        int tokensLast;
        using (var tome = new ToMeReducer(R, c.Depth))
        using (var session = new VitSession(weights, count, tome))
        {
            merged = session.Forward(pixels).ToArray<float>();
            tokensLast = session.TokensAfterReduction[^1];
        }
        double largest = plain.Max(Math.Abs), diff = 0;
        for (int i = 0; i < plain.Length; i++) diff = Math.Max(diff, Math.Abs(merged[i] - plain[i]));
        int changed = 0;
        for (int b = 0; b < count; b++)
            changed += ArgMax(plain.AsSpan(b * c.Classes, c.Classes)) != ArgMax(merged.AsSpan(b * c.Classes, c.Classes)) ? 1 : 0;
        yield return ($"ViT ToMe r={R}: {c.Tokens} -> {tokensLast} tokens, max |logit diff| {diff:F4} (bound {ToMeBound * largest:F3}), " +
                      $"{changed} of {count} predictions changed",
            tokensLast == c.Tokens - R * c.Depth && diff > 0 && diff <= ToMeBound * largest && changed <= 1);
    }

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++)
            if (row[i] > row[best]) best = i;
        return best;
    }
}
