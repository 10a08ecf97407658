// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Optional capability: attention over a paged KV cache held in backend memory, and the row moves that fill and
// compact it. Kept apart from IKernels, like IAttentionKernels; the front doors in Ops/Paged check for it and throw
// NotSupportedException naming the op and the device.
namespace HpcCore.Kernels;

/// <summary>Paged KV-cache kernels over validated arguments (see <see cref="PagedAttentionArgs"/>, <see cref="KvRowsArgs"/>).</summary>
public interface IPagedAttentionKernels
{
    /// <summary>Causal attention of a chunk of queries over per-(sequence, kv head) paged keys and values, with exports.</summary>
    void PagedAttention(in PagedAttentionArgs args);

    /// <summary>Pages[Slots[n], :] = Source[n, :] for every row n (dtype converted to the pages').</summary>
    void KvWriteRows(in KvRowsArgs args);

    /// <summary>Destination[n, :] = Pages[Slots[n], :] for every row n (dtype converted to the destination's).</summary>
    void KvReadRows(in KvRowsArgs args);
}
