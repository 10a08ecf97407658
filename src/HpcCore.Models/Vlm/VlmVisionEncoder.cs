// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm;

using HpcCore.Models.Vit;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>
/// The ViT as the VLM's vision tower (assets/vlm/vision.safetensors: the Fashion-MNIST ViT with its last blocks tuned
/// in the VLM): one <see cref="VitSession"/> over all views of a scene (batch = views) with a
/// <see cref="VlmVisionObserver"/>, then the final LayerNorm over every token (LLaVA feeds patch features, not
/// the classifier's [CLS]), then average pooling of each view's 14 x 14 patch grid in windows of
/// <see cref="Pool"/> x <see cref="Pool"/> patches: 1 keeps every patch as a token (base mode, as LLaVA-1.5 keeps its
/// 576), 2 merges neighbours into 7 x 7 tokens per view (high-resolution mode, as LLaVA-OneVision pools when it sees
/// many views; <see cref="VlmWeights.PoolFor"/>). A visual token's attention scores are the sums over its window's
/// patches (the attention mass the window receives).
/// </summary>
public sealed class VlmVisionEncoder : IDisposable
{
    private readonly VitWeights _vit;
    private readonly VitSession _session;
    private readonly VlmVisionObserver _observer;
    private readonly Tensor _normed;
    private readonly float[] _tokens;

    /// <summary>An encoder for scenes of <paramref name="views"/> views, <paramref name="pool"/> x <paramref name="pool"/> patches per visual token.</summary>
    public VlmVisionEncoder(VitWeights vit, int views, int pool)
    {
        ArgumentNullException.ThrowIfNull(vit);
        var c = vit.Config;
        if (c.ImageSize != VlmScene.Cell || c.Channels != 1)
            throw new ArgumentException($"VlmVisionEncoder: the ViT takes {c.Channels}x{c.ImageSize}x{c.ImageSize} images; scenes give 1x{VlmScene.Cell}x{VlmScene.Cell} views", nameof(vit));
        if (pool < 1 || c.Grid % pool != 0)
            throw new ArgumentOutOfRangeException(nameof(pool), pool, $"VlmVisionEncoder: pool must divide the ViT's {c.Grid} x {c.Grid} patch grid");
        _vit = vit;
        Views = views;
        Pool = pool;
        _observer = new VlmVisionObserver(c.Depth, views, c.Tokens, c.Heads);
        _session = new VitSession(vit, views, _observer);
        _normed = Tensor.Empty(new Shape(views * c.Tokens, c.Dim), DType.F32, vit.PatchWeight.Backend);
        _tokens = new float[views * c.Tokens * c.Dim];
    }

    /// <summary>Views per scene.</summary>
    public int Views { get; }

    /// <summary>Patches per side pooled into one visual token.</summary>
    public int Pool { get; }

    /// <summary>Visual tokens per scene: Views * (14 / Pool)^2.</summary>
    public int Tokens => Views * (_vit.Config.Grid / Pool) * (_vit.Config.Grid / Pool);

    /// <summary>Encodes <paramref name="pixels"/> [views, 28, 28] (normalised, <see cref="VlmScene.Views"/>).</summary>
    public VlmVision Encode(ReadOnlySpan<float> pixels)
    {
        var c = _vit.Config;
        _session.Forward(pixels);
        using (var rows = _session.Tokens.Reshape(Views * c.Tokens, c.Dim))
            Norms.LayerNorm(rows, _vit.NormWeight, _vit.NormBias, _normed, c.LayerNormEpsilon);
        _normed.CopyTo<float>(_tokens);
        int d = c.Dim, g = c.Grid / Pool;
        var features = PoolGrid(_tokens, c.Tokens, c.Grid, d, mean: true);
        var cls = new float[c.Depth][];
        var received = new float[c.Depth][];
        for (int l = 0; l < c.Depth; l++)
        {
            cls[l] = PoolGrid(_observer.ClassRow(l), c.Tokens, c.Grid, 1, mean: false);
            received[l] = PoolGrid(_observer.Received(l), c.Tokens, c.Grid, 1, mean: false);
        }
        return new VlmVision(Views, g, d, features, cls, received);
    }

    // [views, 1 + grid^2, width] (token 0 = [CLS], dropped) -> [views, (grid / Pool)^2, width]: each Pool x Pool window
    // summed row by row in the order ((a + b) + c) + d (the training script's), divided by Pool^2 for features.
    private float[] PoolGrid(float[] perToken, int tokens, int grid, int width, bool mean)
    {
        int g = grid / Pool;
        float area = Pool * Pool;
        var o = new float[Views * g * g * width];
        for (int v = 0; v < Views; v++)
            for (int i = 0; i < g; i++)
                for (int j = 0; j < g; j++)
                    for (int e = 0; e < width; e++)
                    {
                        float s = 0;
                        for (int di = 0; di < Pool; di++)
                            for (int dj = 0; dj < Pool; dj++)
                                s += perToken[(v * tokens + 1 + (Pool * i + di) * grid + Pool * j + dj) * width + e];
                        o[((v * g + i) * g + j) * width + e] = mean ? s / area : s;
                    }
        return o;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _session.Dispose();
        _observer.Dispose();
        _normed.Dispose();
    }
}
