// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The ILGPU backend's paged KV-cache kernels (IPagedAttentionKernels): deterministic paged attention (no atomics, see
// PagedAttentionGroupKernel) and the page row moves (KvRowsKernel).
namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;

internal sealed partial class IlgpuKernels : IPagedAttentionKernels
{
    private readonly Lazy<PagedAttentionKernel> _paged;
    private readonly Lazy<KvRowsKernel> _kvRows;

    public void PagedAttention(in PagedAttentionArgs args) => _paged.Value.Launch(args);

    public void KvWriteRows(in KvRowsArgs args) => _kvRows.Value.Write(args);

    public void KvReadRows(in KvRowsArgs args) => _kvRows.Value.Read(args);
}
