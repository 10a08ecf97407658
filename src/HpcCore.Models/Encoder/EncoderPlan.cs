// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Encoder;

using HpcCore.Tensors;

/// <summary>
/// The views one <see cref="EncoderSession"/> block shape (B texts padded to T tokens) runs through: every tensor is a
/// view of the session's flat buffers, built once per shape and reused. The residual stream alternates between two
/// buffers (index 0 and 1 of <see cref="X"/>): a block reads one and its LayerNorms write the other.
/// </summary>
internal sealed class EncoderPlan
{
    public required int Batch { get; init; }
    public required int Tokens { get; init; }

    /// <summary>Token ids I32 [B, T] (padding: id 0).</summary>
    public required Tensor Ids { get; init; }

    /// <summary>Tokens of each text I32 [B]: the attention kernel's key lengths (one buffer shared by every plan).</summary>
    public required Tensor Lengths { get; init; }

    /// <summary>Position (+ segment 0) embeddings for positions 0..T-1 [T, D].</summary>
    public required Tensor Positions { get; init; }

    /// <summary>The two residual buffers as [B, T, D].</summary>
    public required Tensor[] X { get; init; }

    /// <summary>The same as rows [B*T, D].</summary>
    public required Tensor[] XRows { get; init; }

    /// <summary>Q, K, V [B, T, H, Dh] as views of the fused projection [B*T, 3D].</summary>
    public required Tensor Qkv { get; init; }
    public required Tensor Q { get; init; }
    public required Tensor K { get; init; }
    public required Tensor V { get; init; }

    /// <summary>Attention output [B, T, H, Dh] and its rows [B*T, D].</summary>
    public required Tensor Attended { get; init; }
    public required Tensor AttendedRows { get; init; }

    /// <summary>MLP hidden [B*T, I].</summary>
    public required Tensor Hidden { get; init; }

    /// <summary>Pooling weights [B, 1, T] (a row per text summing to 1) and pooled vectors [B, 1, D].</summary>
    public required Tensor PoolWeights { get; init; }
    public required Tensor Pooled { get; init; }

    /// <summary>Token reduction: slot of each token I32 [B, T], its weight F32 [B, T].</summary>
    public required Tensor Map { get; init; }
    public required Tensor MapWeights { get; init; }

    /// <summary>log(size) of each key F32 [B, T] (proportional attention).</summary>
    public required Tensor KeyBias { get; init; }

    /// <summary>Exports: keys averaged over heads [B, T, Dh]; [CLS] probabilities [B, H, 1, T].</summary>
    public required Tensor KeyMeans { get; init; }
    public required Tensor ClassRow { get; init; }
}
