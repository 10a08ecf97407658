// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>
/// Attention of a chunk of queries q [B, Tq, H, D] over a paged KV cache (vLLM's PagedAttention, Kwon et al. 2023):
/// every (sequence, kv head) holds its own tokens in pages named by a block table, so heads may hold different
/// tokens after per-head eviction, and pages may be F32, F16 or BF16 (F32 accumulation). Causal within the chunk
/// (its keys already appended); optional per-head selected keys, a compensation key with a logit bias, RoPE
/// applied at read by index within the attended list, and the statistics KV policies read (per-key totals,
/// observation-window totals, probability rows), exported by token index. The decode step (Tq = 1) is the main case.
/// </summary>
public static class PagedAttention
{
    internal const string Op = "PagedAttention.Forward";

    /// <summary>Attention of q [B, Tq, H, D] over <paramref name="kv"/> into <paramref name="destination"/> [B, Tq, H, D].</summary>
    public static void Forward(Tensor q, in PagedKv kv, Tensor destination, in PagedAttentionOptions options = default)
    {
        var args = PagedAttentionValidation.Resolve(q, kv, destination, options);
        Kernels(q, Op).PagedAttention(args);
    }

    internal static IPagedAttentionKernels Kernels(Tensor t, string op)
    {
        if (t.Backend.Kernels is IPagedAttentionKernels kernels) return kernels;
        ThrowHelper.NotImplementedOnDevice(op, t.Device.ToString());
        return null!;
    }
}
