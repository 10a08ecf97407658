// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit;

/// <summary>
/// Shape of a ViT/DeiT (Dosovitskiy et al., ICLR 2021; Touvron et al., ICML 2021) as timm builds it: a patch
/// embedding, a [CLS] token, learned position embeddings, pre-norm blocks (LayerNorm, multi-head attention, LayerNorm,
/// GELU MLP) and a linear head on the final-normed [CLS] token.
/// </summary>
/// <param name="ImageSize">Input edge in pixels (square images).</param>
/// <param name="PatchSize">Patch edge in pixels.</param>
/// <param name="Channels">Input channels (3 for RGB, 1 for grey).</param>
/// <param name="Dim">Embedding width D.</param>
/// <param name="Depth">Number of blocks.</param>
/// <param name="Heads">Attention heads H (D divisible by H).</param>
/// <param name="MlpHidden">Hidden width of the MLP (4 D in the paper's presets).</param>
/// <param name="Classes">Head outputs.</param>
/// <param name="LayerNormEpsilon">LayerNorm epsilon (timm: 1e-6).</param>
/// <param name="Mean">Per-channel normalisation mean (pixels in [0, 1]).</param>
/// <param name="Std">Per-channel normalisation standard deviation.</param>
public sealed record VitConfig(
    int ImageSize, int PatchSize, int Channels, int Dim, int Depth, int Heads, int MlpHidden, int Classes,
    float LayerNormEpsilon, float[] Mean, float[] Std)
{
    private static readonly float[] ImageNetMean = [0.485f, 0.456f, 0.406f];
    private static readonly float[] ImageNetStd = [0.229f, 0.224f, 0.225f];

    /// <summary>Patches per side.</summary>
    public int Grid => ImageSize / PatchSize;

    /// <summary>Patch tokens N = Grid^2.</summary>
    public int Patches => Grid * Grid;

    /// <summary>Tokens entering the first block: the patches and [CLS].</summary>
    public int Tokens => Patches + 1;

    /// <summary>Head width D / H.</summary>
    public int HeadDim => Dim / Heads;

    /// <summary>Values per flattened patch (C p^2): the patch-embedding GEMM's K.</summary>
    public int PatchValues => Channels * PatchSize * PatchSize;

    /// <summary>ViT-Ti/16 (DeiT-Ti) at 224: D 192, 12 blocks, 3 heads.</summary>
    public static VitConfig Tiny { get; } = ImageNet(192, 12, 3);

    /// <summary>ViT-S/16 (DeiT-S) at 224: D 384, 12 blocks, 6 heads.</summary>
    public static VitConfig Small { get; } = ImageNet(384, 12, 6);

    /// <summary>ViT-B/16 at 224: D 768, 12 blocks, 12 heads.</summary>
    public static VitConfig Base { get; } = ImageNet(768, 12, 12);

    /// <summary>ViT-L/16 at 224: D 1024, 24 blocks, 16 heads.</summary>
    public static VitConfig Large { get; } = ImageNet(1024, 24, 16);

    /// <summary>A preset by name: ti, s, b or l (case-insensitive; "tiny", "small", "base", "large" too).</summary>
    public static VitConfig Preset(string name) => name.ToLowerInvariant() switch
    {
        "ti" or "tiny" => Tiny,
        "s" or "small" => Small,
        "b" or "base" => Base,
        "l" or "large" => Large,
        _ => throw new ArgumentException($"VitConfig.Preset: unknown preset '{name}' (expected ti, s, b or l)", nameof(name)),
    };

    private static VitConfig ImageNet(int dim, int depth, int heads) =>
        new(224, 16, 3, dim, depth, heads, 4 * dim, 1000, 1e-6f, ImageNetMean, ImageNetStd);

    /// <summary>Throws when the sizes do not make a ViT (names the offending field).</summary>
    public void Validate()
    {
        static void Positive(int v, string name)
        {
            if (v <= 0) throw new ArgumentOutOfRangeException(name, v, $"VitConfig: {name} must be positive");
        }
        Positive(ImageSize, nameof(ImageSize));
        Positive(PatchSize, nameof(PatchSize));
        Positive(Channels, nameof(Channels));
        Positive(Dim, nameof(Dim));
        Positive(Depth, nameof(Depth));
        Positive(Heads, nameof(Heads));
        Positive(MlpHidden, nameof(MlpHidden));
        Positive(Classes, nameof(Classes));
        if (ImageSize % PatchSize != 0)
            throw new ArgumentException($"VitConfig: ImageSize {ImageSize} is not a multiple of PatchSize {PatchSize}");
        if (Dim % Heads != 0)
            throw new ArgumentException($"VitConfig: Dim {Dim} is not divisible by Heads {Heads}");
        if (Mean.Length != Channels || Std.Length != Channels)
            throw new ArgumentException($"VitConfig: Mean ({Mean.Length}) and Std ({Std.Length}) need one value per channel ({Channels})");
        // An epsilon <= 0 or NaN, or a zero standard deviation, would only show up later as NaN logits.
        if (!(LayerNormEpsilon > 0f && LayerNormEpsilon < 1f))
            throw new ArgumentOutOfRangeException(nameof(LayerNormEpsilon), LayerNormEpsilon, "VitConfig: LayerNormEpsilon must be in (0, 1)");
        if (Mean.Any(m => !float.IsFinite(m)) || Std.Any(v => !(v > 0f) || !float.IsFinite(v)))
            throw new ArgumentException($"VitConfig: Mean [{string.Join(", ", Mean)}] must be finite and Std [{string.Join(", ", Std)}] finite and positive");
    }

    /// <summary>
    /// Multiply-adds times two per image when block l sees <paramref name="tokensPerLayer"/>[l] tokens before its
    /// attention and <paramref name="tokensAfterReduction"/>[l] tokens in its MLP (reduction sits between the two,
    /// as in ToMe and EViT). Counts the GEMMs, the two attention products, the patch embedding and the head.
    /// </summary>
    public double Flops(ReadOnlySpan<int> tokensPerLayer, ReadOnlySpan<int> tokensAfterReduction)
    {
        double d = Dim, macs = (double)Patches * PatchValues * Dim + (double)Dim * Classes;
        for (int l = 0; l < Depth; l++)
        {
            double t = tokensPerLayer[l], m = tokensAfterReduction[l];
            macs += t * 3 * d * d + 2 * t * t * d + t * d * d; // qkv, QK^T and PV, proj
            macs += 2 * m * d * MlpHidden;                      // fc1, fc2
        }
        return 2 * macs;
    }
}
