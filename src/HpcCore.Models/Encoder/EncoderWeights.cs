// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Encoder;

using HpcCore.Tensors;

/// <summary>A BERT-family encoder's weights on one backend. Dispose it (after every session that uses it).</summary>
public sealed class EncoderWeights : IDisposable
{
    /// <summary>The model's shape and pooling.</summary>
    public required EncoderConfig Config { get; init; }

    /// <summary>Token embeddings [V, D].</summary>
    public required Tensor WordEmbeddings { get; init; }

    /// <summary>
    /// Position embeddings with segment 0's embedding added to every row [P, D]: every token here is segment 0, so
    /// BERT's three-way embedding sum needs one gather and one broadcast add.
    /// </summary>
    public required Tensor PositionBias { get; init; }

    /// <summary>Embedding LayerNorm [D].</summary>
    public required Tensor EmbeddingNormWeight { get; init; }

    /// <summary>[D].</summary>
    public required Tensor EmbeddingNormBias { get; init; }

    /// <summary>The blocks, first to last.</summary>
    public required EncoderLayerWeights[] Layers { get; init; }

    /// <summary>The linear weights packed for the GEMM on first use (<see cref="PackedWeights"/>), released with the model.</summary>
    public PackedWeights Packs { get; } = new();

    /// <inheritdoc />
    public void Dispose()
    {
        Packs.Dispose();
        WordEmbeddings.Dispose();
        PositionBias.Dispose();
        EmbeddingNormWeight.Dispose();
        EmbeddingNormBias.Dispose();
        foreach (var l in Layers) l.Dispose();
    }
}
