// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm;

using HpcCore.Tensors;

/// <summary>
/// One decoder block's parameters, in nn.Linear layout ([out, in], multiplied transposed). Biases and betas are null
/// for Llama. For Llama, <see cref="Gate"/> is W1 / gate_proj (the SiLU branch of SwiGLU) and <see cref="Up"/> is
/// W3 / up_proj; GPT-2 has no <see cref="Gate"/> and <see cref="Up"/> is c_fc.
/// </summary>
public sealed class LmLayerWeights : IDisposable
{
    /// <summary>Pre-attention norm scale [C].</summary>
    public required Tensor AttnNorm { get; init; }
    /// <summary>Pre-attention LayerNorm shift [C] (GPT-2).</summary>
    public Tensor? AttnNormBias { get; init; }
    /// <summary>Query projection [C, C].</summary>
    public required Tensor Wq { get; init; }
    /// <summary>Key projection [KvDim, C].</summary>
    public required Tensor Wk { get; init; }
    /// <summary>Value projection [KvDim, C].</summary>
    public required Tensor Wv { get; init; }
    /// <summary>Output projection [C, C].</summary>
    public required Tensor Wo { get; init; }
    /// <summary>Query bias [C] (GPT-2).</summary>
    public Tensor? Bq { get; init; }
    /// <summary>Key bias [KvDim] (GPT-2).</summary>
    public Tensor? Bk { get; init; }
    /// <summary>Value bias [KvDim] (GPT-2).</summary>
    public Tensor? Bv { get; init; }
    /// <summary>Output bias [C] (GPT-2).</summary>
    public Tensor? Bo { get; init; }
    /// <summary>Pre-FFN norm scale [C].</summary>
    public required Tensor FfnNorm { get; init; }
    /// <summary>Pre-FFN LayerNorm shift [C] (GPT-2).</summary>
    public Tensor? FfnNormBias { get; init; }
    /// <summary>First FFN projection [Hidden, C]: Llama's W3 / up_proj, GPT-2's c_fc.</summary>
    public required Tensor Up { get; init; }
    /// <summary>First FFN bias [Hidden] (GPT-2).</summary>
    public Tensor? UpBias { get; init; }
    /// <summary>Llama's W1 / gate_proj [Hidden, C] (the branch SwiGLU passes through SiLU); null for GPT-2.</summary>
    public Tensor? Gate { get; init; }
    /// <summary>FFN down projection [C, Hidden].</summary>
    public required Tensor Down { get; init; }
    /// <summary>Down projection bias [C] (GPT-2).</summary>
    public Tensor? DownBias { get; init; }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in new[] { AttnNorm, AttnNormBias, Wq, Wk, Wv, Wo, Bq, Bk, Bv, Bo, FfnNorm, FfnNormBias, Up, UpBias, Gate, Down, DownBias })
            t?.Dispose();
    }
}
