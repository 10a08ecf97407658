// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm;

using HpcCore.Models.Vit;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>
/// The frozen ViT as the VLM's vision tower: one <see cref="VitSession"/> over all views of a scene (batch = views)
/// with a <see cref="VlmVisionObserver"/>, then the final LayerNorm over every token (LLaVA feeds patch features, not
/// the classifier's [CLS]).
/// </summary>
public sealed class VlmVisionEncoder : IDisposable
{
    private readonly VitWeights _vit;
    private readonly VitSession _session;
    private readonly VlmVisionObserver _observer;
    private readonly Tensor _normed;
    private readonly float[] _tokens;

    /// <summary>An encoder for scenes of <paramref name="views"/> views.</summary>
    public VlmVisionEncoder(VitWeights vit, int views)
    {
        ArgumentNullException.ThrowIfNull(vit);
        var c = vit.Config;
        if (c.ImageSize != VlmScene.Cell || c.Channels != 1)
            throw new ArgumentException($"VlmVisionEncoder: the ViT takes {c.Channels}x{c.ImageSize}x{c.ImageSize} images; scenes give 1x{VlmScene.Cell}x{VlmScene.Cell} views", nameof(vit));
        _vit = vit;
        Views = views;
        _observer = new VlmVisionObserver(c.Depth, views, c.Tokens, c.Heads);
        _session = new VitSession(vit, views, _observer);
        _normed = Tensor.Empty(new Shape(views * c.Tokens, c.Dim), DType.F32, vit.PatchWeight.Backend);
        _tokens = new float[views * c.Tokens * c.Dim];
    }

    /// <summary>Views per scene.</summary>
    public int Views { get; }

    /// <summary>Encodes <paramref name="pixels"/> [views, 28, 28] (normalised, <see cref="VlmScene.Views"/>).</summary>
    public VlmVision Encode(ReadOnlySpan<float> pixels)
    {
        var c = _vit.Config;
        _session.Forward(pixels);
        using (var rows = _session.Tokens.Reshape(Views * c.Tokens, c.Dim))
            Norms.LayerNorm(rows, _vit.NormWeight, _vit.NormBias, _normed, c.LayerNormEpsilon);
        _normed.CopyTo<float>(_tokens);
        int p = c.Patches, d = c.Dim;
        var features = new float[Views * p * d];
        for (int v = 0; v < Views; v++)
            _tokens.AsSpan((v * c.Tokens + 1) * d, p * d).CopyTo(features.AsSpan(v * p * d));
        var cls = new float[c.Depth][];
        var received = new float[c.Depth][];
        for (int l = 0; l < c.Depth; l++)
        {
            cls[l] = DropClass(_observer.ClassRow(l), c.Tokens);
            received[l] = DropClass(_observer.Received(l), c.Tokens);
        }
        return new VlmVision(Views, c.Grid, d, features, cls, received);
    }

    private float[] DropClass(float[] perToken, int tokens)
    {
        int p = tokens - 1;
        var o = new float[Views * p];
        for (int v = 0; v < Views; v++) perToken.AsSpan(v * tokens + 1, p).CopyTo(o.AsSpan(v * p));
        return o;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _session.Dispose();
        _normed.Dispose();
    }
}
