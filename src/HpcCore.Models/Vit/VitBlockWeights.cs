// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit;

using HpcCore.Tensors;

/// <summary>
/// One pre-norm block's tensors under timm's names (blocks.N.*). Linear weights keep PyTorch's [out, in] layout and
/// are used through GEMM's TransposeB, so a mapped safetensors file is read in place.
/// </summary>
/// <param name="Norm1Weight">norm1.weight [D].</param>
/// <param name="Norm1Bias">norm1.bias [D].</param>
/// <param name="QkvWeight">attn.qkv.weight [3D, D] (rows: q heads, k heads, v heads).</param>
/// <param name="QkvBias">attn.qkv.bias [3D].</param>
/// <param name="ProjWeight">attn.proj.weight [D, D].</param>
/// <param name="ProjBias">attn.proj.bias [D].</param>
/// <param name="Norm2Weight">norm2.weight [D].</param>
/// <param name="Norm2Bias">norm2.bias [D].</param>
/// <param name="Fc1Weight">mlp.fc1.weight [hidden, D].</param>
/// <param name="Fc1Bias">mlp.fc1.bias [hidden].</param>
/// <param name="Fc2Weight">mlp.fc2.weight [D, hidden].</param>
/// <param name="Fc2Bias">mlp.fc2.bias [D].</param>
public sealed record VitBlockWeights(
    Tensor Norm1Weight, Tensor Norm1Bias, Tensor QkvWeight, Tensor QkvBias, Tensor ProjWeight, Tensor ProjBias,
    Tensor Norm2Weight, Tensor Norm2Bias, Tensor Fc1Weight, Tensor Fc1Bias, Tensor Fc2Weight, Tensor Fc2Bias)
{
    /// <summary>The tensors with their timm names relative to the block (for loading, saving and disposal).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> Named()
    {
        yield return new("norm1.weight", Norm1Weight);
        yield return new("norm1.bias", Norm1Bias);
        yield return new("attn.qkv.weight", QkvWeight);
        yield return new("attn.qkv.bias", QkvBias);
        yield return new("attn.proj.weight", ProjWeight);
        yield return new("attn.proj.bias", ProjBias);
        yield return new("norm2.weight", Norm2Weight);
        yield return new("norm2.bias", Norm2Bias);
        yield return new("mlp.fc1.weight", Fc1Weight);
        yield return new("mlp.fc1.bias", Fc1Bias);
        yield return new("mlp.fc2.weight", Fc2Weight);
        yield return new("mlp.fc2.bias", Fc2Bias);
    }
}
