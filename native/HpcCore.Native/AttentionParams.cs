// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Native;

using System.Runtime.InteropServices;

/// <summary>
/// hpc_attention_params (hpccore.h; same field order and sizes). Not all-zero by default: windows use -1 for
/// "unbounded", so C callers start from hpc_attention_default_params().
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct AttentionParams
{
    public float Scale;
    public int Causal;
    public int WindowLeft;
    public int WindowRight;
    public float SoftCap;
    public int Reserved;
    public nint KeyBias;
    public nint KeyPaddingMask;
    public nint KeyLengths;
    public nint KeyTotals;

    /// <summary>Plain softmax attention with scale 1/sqrt(D) and no window.</summary>
    public static AttentionParams Default => new() { WindowLeft = -1, WindowRight = -1 };
}

/// <summary>hpc_prune_params: keep_order (nonzero: kept tokens in their original order; default 1).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PruneParams
{
    public int KeepOrder;
}

/// <summary>hpc_tome_params: the C twin of <see cref="HpcCore.TokenReduction.ToMeOptions"/>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ToMeParams
{
    public int ClassToken;
    public int DistillationToken;
    public int PreserveOrder;
}
