// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>Which RoPE positions cached keys carry (Llama-family models; GPT-2's learned positions have only the first).</summary>
public enum KvPositionMode
{
    /// <summary>
    /// Keys are cached rotated at their original positions and queries rotated at theirs: eviction never renumbers
    /// survivors (kvpress). Decoding past the model's trained context is refused: those positions were never seen.
    /// </summary>
    Original,

    /// <summary>
    /// Keys are cached unrotated; attention rotates each attended key at its index within the kept (or selected) list
    /// and the query at its own index, so positions stay below the cache size however long the sequence grows
    /// (StreamingLLM's in-cache positions, section 3.2 of Xiao et al. 2024; TokenSelect's released code).
    /// </summary>
    Renumbered,
}
