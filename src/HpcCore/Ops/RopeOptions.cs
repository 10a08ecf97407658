// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>Options for <see cref="Rope.Apply(Tensor, in RopeOptions)"/>.</summary>
/// <param name="Theta">Frequency base (10000 for Llama 2; 500000 for Llama 3).</param>
/// <param name="Layout">How dimensions pair up inside a head.</param>
/// <param name="RotaryDim">Leading dimensions of each head that rotate (0: all of D; partial rotary as in GPT-J/NeoX).</param>
/// <param name="PositionOffset">Position of token 0 when <paramref name="Positions"/> is null (the KV-cache length in decode).</param>
/// <param name="Positions">Optional I32 [B, T] explicit positions (e.g. after token eviction).</param>
public readonly record struct RopeOptions(
    float Theta = 10000f,
    RopeLayout Layout = RopeLayout.Interleaved,
    int RotaryDim = 0,
    int PositionOffset = 0,
    Tensor? Positions = null);
