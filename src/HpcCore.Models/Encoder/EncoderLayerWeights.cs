// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Encoder;

using HpcCore.Tensors;

/// <summary>
/// One BERT block (post-LayerNorm): x = LN1(x + Wo·attn(Wqkv·x)); x = LN2(x + W2·gelu(W1·x)). Linear weights are
/// [out, in] (nn.Linear), multiplied transposed; the query, key and value projections are stacked into one [3D, D]
/// weight so that one GEMM makes [B, T, 3H, Dh] and the attention op reads Q, K and V as views of it.
/// </summary>
public sealed class EncoderLayerWeights : IDisposable
{
    /// <summary>[3D, D]: query, key, value rows.</summary>
    public required Tensor QkvWeight { get; init; }

    /// <summary>[3D].</summary>
    public required Tensor QkvBias { get; init; }

    /// <summary>Attention output projection [D, D] (<c>attention.output.dense</c>).</summary>
    public required Tensor OutWeight { get; init; }

    /// <summary>[D].</summary>
    public required Tensor OutBias { get; init; }

    /// <summary>LayerNorm after the attention residual (<c>attention.output.LayerNorm</c>) [D].</summary>
    public required Tensor AttentionNormWeight { get; init; }

    /// <summary>[D].</summary>
    public required Tensor AttentionNormBias { get; init; }

    /// <summary>MLP up projection [I, D] (<c>intermediate.dense</c>).</summary>
    public required Tensor UpWeight { get; init; }

    /// <summary>[I].</summary>
    public required Tensor UpBias { get; init; }

    /// <summary>MLP down projection [D, I] (<c>output.dense</c>).</summary>
    public required Tensor DownWeight { get; init; }

    /// <summary>[D].</summary>
    public required Tensor DownBias { get; init; }

    /// <summary>LayerNorm after the MLP residual (<c>output.LayerNorm</c>) [D].</summary>
    public required Tensor OutputNormWeight { get; init; }

    /// <summary>[D].</summary>
    public required Tensor OutputNormBias { get; init; }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in new[] { QkvWeight, QkvBias, OutWeight, OutBias, AttentionNormWeight, AttentionNormBias, UpWeight, UpBias,
            DownWeight, DownBias, OutputNormWeight, OutputNormBias })
            t.Dispose();
    }
}
