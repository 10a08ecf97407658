// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Tensors;

/// <summary>
/// The tensors of a paged KV cache that <see cref="PagedAttention"/> reads: key and value pages [NPages, P, D]
/// (F32, F16 or BF16), block tables I32 [B, Hkv, MaxBlocks] naming each (sequence, kv head)'s pages in token order,
/// and token counts I32 [B, Hkv]. The cache that owns them (HpcCore.Models' PagedKvCache, or a caller's) allocates
/// pages and fills the tables; see <see cref="Kernels.PagedAttentionArgs"/> for the exact semantics.
/// </summary>
/// <param name="KeyPages">Keys [NPages, P, D].</param>
/// <param name="ValuePages">Values [NPages, P, D], same dtype as the keys.</param>
/// <param name="BlockTables">I32 [B, Hkv, MaxBlocks]: page ids of each head's tokens, in order.</param>
/// <param name="Lengths">I32 [B, Hkv]: tokens each head holds.</param>
public readonly record struct PagedKv(Tensor KeyPages, Tensor ValuePages, Tensor BlockTables, Tensor Lengths);
