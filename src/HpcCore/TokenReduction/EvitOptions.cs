// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.TokenReduction;

/// <summary>How EViT fuses the inattentive tokens into one extra token.</summary>
public enum EvitFusion
{
    /// <summary>sum_j a_j x_j over the dropped tokens, unnormalised: the released code (default).</summary>
    Sum = 0,

    /// <summary>sum_j a_j x_j / sum_j a_j: the weighted average the paper describes.</summary>
    Average,

    /// <summary>No fused token: the inattentive tokens are dropped.</summary>
    Drop,
}

/// <summary>Options of <see cref="Evit.Plan"/>; <c>default</c> is the released code's unnormalised fusion.</summary>
/// <param name="Fusion">Fusion of the inattentive tokens.</param>
public readonly record struct EvitOptions(EvitFusion Fusion = EvitFusion.Sum);
