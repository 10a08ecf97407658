// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Kernels;

using HpcCore.Tensors;

/// <summary>How rotary pairs are formed inside a head.</summary>
public enum RopeLayout
{
    /// <summary>Pairs (2i, 2i+1): GPT-J, llama2.c and Meta's original Llama code.</summary>
    Interleaved,
    /// <summary>Pairs (i, i + R/2): GPT-NeoX and Hugging Face Llama ("rotate_half").</summary>
    HalfSplit,
}

/// <summary>
/// Rotary embedding over contiguous F32 X [B, T, H, D] into Dest (may alias X). Pair i of the first RotaryDim
/// entries turns by angle <c>pos * Theta^(-2i / RotaryDim)</c>, where pos is <c>Positions[b, t]</c> when Positions
/// (I32 [B, T]) is given, else <c>PositionOffset + t</c>. Entries past RotaryDim are copied unchanged.
/// </summary>
public readonly record struct RopeArgs(
    Tensor X, Tensor Dest, Tensor? Positions,
    int Batch, int Tokens, int Heads, int HeadDim, int RotaryDim,
    int PositionOffset, float Theta, RopeLayout Layout);

/// <summary>
/// Embedding gather: <c>Dest[n, :] = Table[Ids[n], :]</c> for n in [0, Count). Table is contiguous F32 [Vocab, Dim],
/// Ids contiguous I32. Ids outside [0, Vocab) give a zero row (the front door rejects them on host-visible ids).
/// </summary>
public readonly record struct EmbeddingArgs(Tensor Table, Tensor Ids, Tensor Dest, long Count, int Dim, int Vocab);

/// <summary>Row-wise argmax of contiguous F32 [Rows, Cols] into I32 [Rows]; ties and NaN-free rows go to the lower index.</summary>
public readonly record struct ArgmaxArgs(Tensor X, Tensor Dest, long Rows, int Cols);

/// <summary>Elementwise conversion of Count contiguous elements between F32, F16 and BF16 (round to nearest even).</summary>
public readonly record struct ConvertArgs(Tensor X, Tensor Dest, long Count);

/// <summary>Element-by-element copy of Source (any strides) into Dest (any strides) of the same shape and dtype.</summary>
public readonly record struct CopyStridedArgs(Tensor Source, Tensor Dest);
