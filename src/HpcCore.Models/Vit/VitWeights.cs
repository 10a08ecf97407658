// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit;

using HpcCore.Tensors;

/// <summary>
/// A ViT's parameters under timm's tensor names, on one backend: loaded from safetensors
/// (<see cref="VitWeightsLoader.Load(string, Devices.IBackend, bool)"/>) or seeded random (<see cref="VitWeightsLoader.Random"/>).
/// Owns its tensors: dispose it.
/// </summary>
public sealed partial class VitWeights : IDisposable
{
    internal VitWeights(VitConfig config, Tensor patchWeight, Tensor patchBias, Tensor classToken, Tensor positions,
        VitBlockWeights[] blocks, Tensor normWeight, Tensor normBias, Tensor headWeight, Tensor headBias)
    {
        Config = config;
        PatchWeight = patchWeight;
        PatchBias = patchBias;
        ClassToken = classToken;
        Positions = positions;
        Blocks = blocks;
        NormWeight = normWeight;
        NormBias = normBias;
        HeadWeight = headWeight;
        HeadBias = headBias;
    }

    /// <summary>The model's shape.</summary>
    public VitConfig Config { get; }

    /// <summary>patch_embed.proj.weight [D, C, p, p].</summary>
    public Tensor PatchWeight { get; }

    /// <summary>patch_embed.proj.bias [D].</summary>
    public Tensor PatchBias { get; }

    /// <summary>cls_token [1, 1, D].</summary>
    public Tensor ClassToken { get; }

    /// <summary>pos_embed [1, N + 1, D] (row 0 belongs to [CLS]).</summary>
    public Tensor Positions { get; }

    /// <summary>blocks.0 .. blocks.(Depth - 1).</summary>
    public IReadOnlyList<VitBlockWeights> Blocks { get; }

    /// <summary>norm.weight [D].</summary>
    public Tensor NormWeight { get; }

    /// <summary>norm.bias [D].</summary>
    public Tensor NormBias { get; }

    /// <summary>head.weight [classes, D].</summary>
    public Tensor HeadWeight { get; }

    /// <summary>head.bias [classes].</summary>
    public Tensor HeadBias { get; }

    /// <summary>Every tensor with its timm name.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> Named()
    {
        yield return new("patch_embed.proj.weight", PatchWeight);
        yield return new("patch_embed.proj.bias", PatchBias);
        yield return new("cls_token", ClassToken);
        yield return new("pos_embed", Positions);
        for (int i = 0; i < Blocks.Count; i++)
            foreach (var (name, t) in Blocks[i].Named())
                yield return new($"blocks.{i}.{name}", t);
        yield return new("norm.weight", NormWeight);
        yield return new("norm.bias", NormBias);
        yield return new("head.weight", HeadWeight);
        yield return new("head.bias", HeadBias);
    }

    /// <summary>The linear weights packed for the GEMM on first use (<see cref="PackedWeights"/>), released with the model.</summary>
    public PackedWeights Packs { get; } = new();

    /// <summary>Releases every tensor.</summary>
    public void Dispose()
    {
        Packs.Dispose();
        foreach (var (_, t) in Named()) t.Dispose();
    }
}
