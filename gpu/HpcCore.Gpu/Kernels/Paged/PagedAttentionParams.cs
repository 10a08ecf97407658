// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Dims, flags, scalars and scratch offsets of PagedAttentionGroupKernel, resolved on the host from PagedAttentionArgs.
namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;

/// <summary>
/// Everything <see cref="PagedAttentionGroupKernel"/> needs besides its views. Every tensor is contiguous and viewed
/// from its first element, so only dims travel (no strides or offsets). The compensation tensors are copied into the
/// scratch buffer (ILGPU's stream-kernel loaders stop at 15 parameters): <see cref="OffCompKeys"/>,
/// <see cref="OffCompValues"/> and <see cref="OffCompBias"/> locate them there.
/// </summary>
internal readonly struct PagedAttentionParams
{
    public readonly int Batch, Tq, H, Hkv, D, PageTokens, MaxBlocks, Pages, MaxSel;
    public readonly int HasSel, HasComp, Rope, HalfSplit, RotaryDim;
    public readonly int HasTotals, HasWindow, WindowFromRow, HasProbs, ExportKeys;
    /// <summary>Floats of probability scratch per group: most attended slots + 1 (the compensation slot).</summary>
    public readonly int SlotStride;
    public readonly float Scale;
    public readonly long OffCompKeys, OffCompValues, OffCompBias;

    public PagedAttentionParams(in PagedAttentionArgs a, int slotStride, long offCompKeys, long offCompValues, long offCompBias)
    {
        Batch = a.Batch; Tq = a.QueryLength; H = a.Heads; Hkv = a.KvHeads; D = a.HeadDim;
        PageTokens = a.PageTokens; MaxBlocks = a.MaxBlocks; Pages = a.KeyPages.Shape[0]; MaxSel = a.MaxSelected;
        HasSel = a.SelectedKeys is null ? 0 : 1;
        HasComp = a.CompensationBias is null ? 0 : 1;
        Rope = a.RopeKeys ? 1 : 0;
        HalfSplit = a.RopeLayout == RopeLayout.HalfSplit ? 1 : 0;
        RotaryDim = a.RopeKeys ? a.RotaryDim : 0;
        HasTotals = a.KeyTotals is null ? 0 : 1;
        HasWindow = a.WindowTotals is null ? 0 : 1;
        WindowFromRow = a.WindowFromRow;
        HasProbs = a.Probabilities is null ? 0 : 1;
        ExportKeys = a.ExportKeys;
        SlotStride = slotStride;
        Scale = a.Scale;
        OffCompKeys = offCompKeys; OffCompValues = offCompValues; OffCompBias = offCompBias;
    }

    /// <summary>Most key slots a head can attend: MaxSel with a selection, else MaxBlocks x P.</summary>
    public static int MaxSlots(in PagedAttentionArgs a) =>
        a.SelectedKeys is null ? (int)Math.Min(int.MaxValue - 1, (long)a.MaxBlocks * a.PageTokens) : a.MaxSelected;
}
