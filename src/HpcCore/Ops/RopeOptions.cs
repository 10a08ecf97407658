// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>
/// Options for <see cref="Rope.Apply(Tensor, in RopeOptions)"/>. Every member's zero value is its default (Theta is
/// nullable for that reason), so <c>default(RopeOptions)</c> and <c>new RopeOptions()</c> mean Llama 2's settings.
/// </summary>
/// <param name="Theta">Frequency base; null means 10000 (Llama 2). Llama 3 uses 500000.</param>
/// <param name="Layout">How dimensions pair up inside a head.</param>
/// <param name="RotaryDim">Leading dimensions of each head that rotate (0: all of D; partial rotary as in GPT-J/NeoX).</param>
/// <param name="PositionOffset">Position of token 0 when <paramref name="Positions"/> is null (the KV-cache length in decode).</param>
/// <param name="Positions">Optional I32 [B, T] explicit positions (e.g. after token eviction).</param>
public readonly record struct RopeOptions(
    float? Theta = null,
    RopeLayout Layout = RopeLayout.Interleaved,
    int RotaryDim = 0,
    int PositionOffset = 0,
    Tensor? Positions = null);
