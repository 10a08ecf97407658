// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.TokenReduction;

/// <summary>How per-head attention scores are combined into one score per token.</summary>
public enum HeadCombine
{
    /// <summary>Mean over heads (EViT, VTC-CLS, HiPrune).</summary>
    Mean = 0,

    /// <summary>Sum over heads (HiRED's released code); the ranking equals Mean's.</summary>
    Sum,
}
