// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Encoder;

using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>
/// The views one <see cref="EncoderSession"/> call shape (B texts padded to T tokens) runs through: every tensor is a
/// view of the session's flat buffers, built once per shape and reused.
/// </summary>
internal sealed class EncoderPlan
{
    public required int Batch { get; init; }
    public required int Tokens { get; init; }

    /// <summary>Token ids I32 [B, T] (padding: id 0).</summary>
    public required Tensor Ids { get; init; }

    /// <summary>Unpadded lengths I32 [B]: the attention kernel's key lengths.</summary>
    public required Tensor Lengths { get; init; }

    /// <summary>Position (+ segment 0) embeddings for positions 0..T-1 [T, D].</summary>
    public required Tensor Positions { get; init; }

    /// <summary>The residual stream [B, T, D] and its rows [B*T, D].</summary>
    public required Tensor X { get; init; }
    public required Tensor XRows { get; init; }

    /// <summary>Second stream [B, T, D] / [B*T, D]: the block's state between its two LayerNorms.</summary>
    public required Tensor Y { get; init; }
    public required Tensor YRows { get; init; }

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

    public required AttentionOptions Attention { get; init; }
}
