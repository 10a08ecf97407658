// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.TokenReduction;

/// <summary>How Zero-TPrune's S-stage splits the tokens left by the I-stage (ranked by importance) into targets and sources.</summary>
public enum ZeroTPrunePartition
{
    /// <summary>The more important half (ranks 0 .. ceil(K/2) - 1) are targets, the less important half sources (default).</summary>
    Sequential = 0,

    /// <summary>Ranks alternate: 0, 2, 4, ... targets; 1, 3, 5, ... sources (ToMe's split applied to the importance order).</summary>
    Alternate,
}
