// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm;

/// <summary>The decoder block family a <see cref="LmConfig"/> describes.</summary>
public enum LmArchitecture
{
    /// <summary>Llama: RMSNorm, rotary positions (RoPE), grouped-query attention, SwiGLU feed-forward, no biases.</summary>
    Llama,
    /// <summary>GPT-2: LayerNorm with bias, learned absolute positions, multi-head attention, GELU (tanh) MLP, biases.</summary>
    Gpt2,
}
