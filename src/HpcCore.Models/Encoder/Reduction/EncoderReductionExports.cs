// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Encoder.Reduction;

/// <summary>What a reducer reads from a block's attention call (exported by the fused kernel in the same pass).</summary>
[Flags]
public enum EncoderReductionExports
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>Keys averaged over heads [B, T, Dh] (ToMe's similarity metric).</summary>
    KeyMeans = 1,

    /// <summary>The [CLS] query's attention probabilities [B, H, T] (EViT's attentiveness).</summary>
    ClassRow = 2,
}
