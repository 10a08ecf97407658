// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Resolved arguments of the paged KV-cache ops (Ops/Paged). The layout follows vLLM's PagedAttention (Kwon et al.
// 2023): a pool of fixed-size pages [NPages, P, D] per K and V, and a block table per (sequence, kv head) naming the
// pages that hold its tokens in order, so that heads may hold different tokens (eviction is per head).
namespace HpcCore.Kernels;

using HpcCore.Tensors;

/// <summary>
/// Validated paged attention. Q and Dest are contiguous F32 [B, Tq, H, D]; KeyPages and ValuePages contiguous
/// [NPages, P, D] of one dtype (F32, F16 or BF16; accumulation is F32). Sequence b's kv head g holds
/// <c>L = Lengths[b, g]</c> tokens (I32 [B, Hkv]); its token i lives in page <c>BlockTables[b, g, i / P]</c> (I32
/// [B, Hkv, MaxBlocks]) at row <c>i % P</c>. Query head h reads kv head <c>h / (H / Hkv)</c>. The chunk's own keys are
/// already appended, so query row t sees the tokens with index below <c>L - Tq + t + 1</c> (causal, bottom-right
/// aligned); with SelectedKeys (I32 [B, Hkv, MaxSel], ascending token indices, the first SelectedCounts[b, g] valid)
/// it sees only the selected ones among those. The attended list of row t is those tokens in order; slot j is the
/// j-th of them.
/// Logit of slot j: <c>Scale * q.k_j</c>. With <see cref="RopeKeys"/> the cache holds unrotated keys and the kernel
/// rotates slot j's key at position j and row t's query at position n_t - 1 (n_t = its visible slots): positions
/// are renumbered by index within the attended list (StreamingLLM's in-cache positions, TokenSelect's released
/// code). An optional compensation token (CompensationKeys/Values F32 [B, Hkv, D], CompensationBias F32 [B, Hkv];
/// a bias of -inf means none) is one more key/value visible to every row, never rotated, with its bias added to the
/// logit (RazorAttention's mean dropped key and value with bias log n). Rows that see nothing give zeros.
/// Exports, by token index (not slot) over an ExportKeys-wide last axis, zero where not attended:
/// KeyTotals F32 [B, H, ExportKeys] (probabilities summed over rows), WindowTotals F32 [B, H, ExportKeys] (summed over
/// rows t &gt;= WindowFromRow), Probabilities F32 [B, Tq, H, ExportKeys] (every row).
/// </summary>
public readonly record struct PagedAttentionArgs(
    Tensor Q, Tensor KeyPages, Tensor ValuePages, Tensor BlockTables, Tensor Lengths, Tensor Dest,
    int Batch, int QueryLength, int Heads, int KvHeads, int HeadDim, int PageTokens, int MaxBlocks,
    float Scale,
    Tensor? SelectedKeys, Tensor? SelectedCounts,
    Tensor? CompensationKeys, Tensor? CompensationValues, Tensor? CompensationBias,
    bool RopeKeys, float RopeTheta, RopeLayout RopeLayout, int RotaryDim,
    Tensor? KeyTotals, Tensor? WindowTotals, int WindowFromRow, Tensor? Probabilities, int ExportKeys)
{
    /// <summary>Most selected tokens per (sequence, kv head): SelectedKeys' last axis, or 0.</summary>
    public int MaxSelected => SelectedKeys is { } s ? s.Shape[2] : 0;
}

/// <summary>
/// Validated row moves between a page pool and a dense tensor. Pages is contiguous [NPages, P, D]; Rows is
/// contiguous [N, D]; Slots is contiguous I32 [N] of flat page rows (<c>page * P + row</c>), each in range (distinct
/// when writing). Either side may be F32, F16 or BF16 (round to nearest even when narrowing).
/// </summary>
public readonly record struct KvRowsArgs(Tensor Pages, Tensor Rows, Tensor Slots, int Count, int HeadDim);
