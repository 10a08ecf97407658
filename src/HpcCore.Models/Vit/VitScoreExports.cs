// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit;

/// <summary>
/// Attention statistics a token-reduction step reads, exported by the attention kernel in the same pass
/// (<see cref="HpcCore.Ops.AttentionOptions"/>), so no second attention pass is paid.
/// </summary>
[Flags]
public enum VitScoreExports
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>Keys averaged over heads F32 [B, T, Dh]: ToMe's merge metric (AttentionOptions.KeyMeans).</summary>
    KeyMeans = 1,

    /// <summary>The [CLS] query's probability rows F32 [B, H, 1, T]: EViT, VTC-CLS (AttentionOptions.RowProbabilities).</summary>
    ClassRow = 2,

    /// <summary>Attention received per key F32 [B, H, T], summed over queries (AttentionOptions.KeyTotals).</summary>
    KeyTotals = 4,

    /// <summary>Every query's probability rows F32 [B, H, T, T] (RowIndices = 0..T-1): Zero-TPrune's attention graph.
    /// Costs T^2 floats per head; only requested at the block that prunes.</summary>
    AllRows = 8,
}
