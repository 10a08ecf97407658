// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Native;

using System.Runtime.InteropServices;

/// <summary>hpc_kv_policy_kind (hpccore.h; keep the numbers in sync).</summary>
internal enum KvPolicyKind
{
    StreamingLlm = 0,
    H2O = 1,
    SnapKv = 2,
    TokenSelect = 3,
    Full = 4,
    Recycled = 5,
    RazorAttention = 6,
    Ems = 7,
}

/// <summary>
/// hpc_kv_policy_params (hpccore.h; same field order and sizes). The defaults are the managed constructors' defaults
/// (StreamingLlmKvPolicy, H2OKvPolicy, SnapKvPolicy, TokenSelectKvPolicy, RecycledKvPolicy, RazorAttentionKvPolicy,
/// EmsKvPolicy); not all zero, so C callers start from hpc_kv_policy_default_params().
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvPolicyParams
{
    public int Kind;
    public int Budget;
    public int Sinks;
    public int Recent;
    public int Window;
    public int Kernel;
    public int Local;
    public int Stride;
    public float Ratio;
    public int Pool;
    public int Reserved;

    /// <summary>
    /// StreamingLLM keeping 256 tokens per head, 4 sinks; H2O recent = budget / 2; SnapKV window 32, kernel 5;
    /// TokenSelect local 32; Recycled stride 8; RazorAttention ratio 4; SnapKV pool 0 (average): the registry's
    /// defaults at budget 256.
    /// </summary>
    public static KvPolicyParams Default => new()
    {
        Kind = (int)KvPolicyKind.StreamingLlm, Budget = 256, Sinks = 4, Recent = -1, Window = 32, Kernel = 5, Local = 32,
        Stride = 8, Ratio = 4f,
    };
}
