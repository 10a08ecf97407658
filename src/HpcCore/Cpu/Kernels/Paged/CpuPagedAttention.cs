// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Paged attention on the CPU backend: the call's set-up and its split into work items. An item is one (sequence,
// kv head): its query heads (the GQA group) are scored together so each key is read once per group and row, every
// export row belongs to exactly one item, and items share no writes, so the result does not depend on the thread
// count. The per-item algorithm is in PagedAttentionWork.
namespace HpcCore.Cpu;

using System.Runtime.CompilerServices;
using HpcCore.Kernels;

internal sealed unsafe partial class CpuKernels : IPagedAttentionKernels
{
    // Below ~32k multiply-adds waking the workers costs more than the work (the old Models/KvCache threshold).
    private const long PagedParallelWork = 32 * 1024;

    private readonly PagedRopeTable _pagedRope = new();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void PagedAttention(in PagedAttentionArgs a)
    {
        int items = a.Batch * a.KvHeads;
        var work = new PagedAttentionWork
        {
            Q = Ptr<float>(a.Q), O = Ptr<float>(a.Dest),
            KeyPages = Ptr<byte>(a.KeyPages), ValuePages = Ptr<byte>(a.ValuePages), PageType = a.KeyPages.DType,
            Tables = Ptr<int>(a.BlockTables), Lengths = Ptr<int>(a.Lengths),
            Selected = a.SelectedKeys is { } sel ? Ptr<int>(sel) : null,
            Counts = a.SelectedCounts is { } counts ? Ptr<int>(counts) : null,
            CompKeys = a.CompensationKeys is { } ck ? Ptr<float>(ck) : null,
            CompValues = a.CompensationValues is { } cv ? Ptr<float>(cv) : null,
            CompBias = a.CompensationBias is { } cb ? Ptr<float>(cb) : null,
            KeyTotals = a.KeyTotals is { } kt ? Ptr<float>(kt) : null,
            WindowTotals = a.WindowTotals is { } wt ? Ptr<float>(wt) : null,
            Probabilities = a.Probabilities is { } pr ? Ptr<float>(pr) : null,
            Tq = a.QueryLength, H = a.Heads, Hkv = a.KvHeads, D = a.HeadDim, P = a.PageTokens, MaxBlocks = a.MaxBlocks,
            MaxSel = a.MaxSelected, WindowFrom = a.WindowFromRow, ExportKeys = a.ExportKeys, Scale = a.Scale,
            Rope = a.RopeKeys && a.RotaryDim > 0, HalfSplit = a.RopeLayout == RopeLayout.HalfSplit, Rotary = a.RotaryDim,
        };
        if (items == 0) return;

        // Host-side sizes: the longest attended list (RoPE table positions) and the work (threading decision).
        long work0 = 0;
        int longest = 0;
        for (int i = 0; i < items; i++)
        {
            int n = work.Selected != null ? work.Counts[i] : work.Lengths[i];
            longest = Math.Max(longest, n);
            work0 += (long)n + 1;
        }
        work0 *= (long)a.QueryLength * (a.Heads / a.KvHeads) * Math.Max(1, a.HeadDim);

        if (work.Rope)
        {
            // The table is per backend: hold it for the whole call (calls on one backend serialise on its pool anyway).
            lock (_pagedRope)
            {
                // Positions 0..N-1 for keys and queries, and 1 for a query at position -1 (a row that sees no key).
                _pagedRope.Ensure(a.RopeTheta, a.RotaryDim, Math.Max(2, longest));
                work.RopeCos = _pagedRope.Cos;
                work.RopeSin = _pagedRope.Sin;
                Run(items, work, work0);
            }
        }
        else Run(items, work, work0);
    }

    private void Run(int items, in PagedAttentionWork work, long multiplyAdds)
    {
        if (items == 1 || Pool.ActiveThreads == 1 || multiplyAdds < PagedParallelWork)
        {
            for (int i = 0; i < items; i++) work.Invoke(i);
            return;
        }
        Pool.For(items, work);
    }
}
