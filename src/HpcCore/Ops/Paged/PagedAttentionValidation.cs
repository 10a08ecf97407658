// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Front-door checks of the paged KV ops, in the library's order: live -> device -> dtype -> rank -> shape -> layout
// -> scalars -> index ranges. Index ranges (lengths, block tables, selections, slots) are checked where the tensors
// are host-visible (CPU); device kernels skip out-of-range entries instead of reading outside the pool.
namespace HpcCore.Ops;

using System.Runtime.CompilerServices;
using HpcCore.Cpu;
using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>Validates and resolves <see cref="PagedAttention"/> and <see cref="KvPages"/> arguments.</summary>
internal static class PagedAttentionValidation
{
    private const string Op = PagedAttention.Op;

    public static PagedAttentionArgs Resolve(Tensor q, in PagedKv kv, Tensor dest, in PagedAttentionOptions o)
    {
        Check.Input(Op, "q", q, DType.F32, 4, "[B, Tq, H, D]");
        Check.Contiguous(Op, "q", q);
        int b = q.Shape[0], tq = q.Shape[1], h = q.Shape[2], d = q.Shape[3];
        Check.Live(Op, "KeyPages", kv.KeyPages);
        Check.SameDevice(Op, "KeyPages", kv.KeyPages, q, "q");
        FloatDType(Op, "KeyPages", kv.KeyPages);
        Check.Rank(Op, "KeyPages", kv.KeyPages, 3, "[NPages, P, D]");
        Check.Contiguous(Op, "KeyPages", kv.KeyPages);
        int pages = kv.KeyPages.Shape[0], p = kv.KeyPages.Shape[1];
        if (kv.KeyPages.Shape[2] != d)
            ThrowHelper.Argument(Op, "KeyPages", $"has shape {kv.KeyPages.Shape}; its D must equal q's D = {d} (q {q.Shape})");
        Check.Live(Op, "ValuePages", kv.ValuePages);
        Check.SameDevice(Op, "ValuePages", kv.ValuePages, q, "q");
        if (kv.ValuePages.DType != kv.KeyPages.DType)
            ThrowHelper.Argument(Op, "ValuePages", $"has dtype {kv.ValuePages.DType}; expected the key pages' {kv.KeyPages.DType}");
        Check.Shape(Op, "ValuePages", kv.ValuePages, kv.KeyPages.Shape, "same as KeyPages", kv.KeyPages, "KeyPages");
        Check.Contiguous(Op, "ValuePages", kv.ValuePages);
        Check.Operand(Op, "BlockTables", kv.BlockTables, q, "q", DType.I32);
        Check.Rank(Op, "BlockTables", kv.BlockTables, 3, "[B, Hkv, MaxBlocks]");
        Check.Contiguous(Op, "BlockTables", kv.BlockTables);
        int hkv = kv.BlockTables.Shape[1], maxBlocks = kv.BlockTables.Shape[2];
        if (kv.BlockTables.Shape[0] != b)
            ThrowHelper.Argument(Op, "BlockTables", $"has shape {kv.BlockTables.Shape}; expected [B, Hkv, MaxBlocks] with B = {b} of q {q.Shape}");
        if (hkv == 0 || h % hkv != 0)
            ThrowHelper.Argument(Op, "BlockTables", $"has {hkv} kv heads (shape {kv.BlockTables.Shape}); q's {h} heads (shape {q.Shape}) must be a multiple");
        Check.Operand(Op, "Lengths", kv.Lengths, q, "q", DType.I32);
        Check.Shape(Op, "Lengths", kv.Lengths, new Shape(b, hkv), "[B, Hkv]", kv.BlockTables, "BlockTables");
        Check.Contiguous(Op, "Lengths", kv.Lengths);
        Check.Input(Op, "destination", dest, DType.F32, 4, "[B, Tq, H, D]");
        Check.SameDevice(Op, "destination", dest, q, "q");
        Check.Shape(Op, "destination", dest, q.Shape, "same as q", q, "q");
        Check.Contiguous(Op, "destination", dest);

        if (!float.IsFinite(o.Scale)) ThrowHelper.OutOfRange(Op, "Scale", o.Scale, "it must be finite (0: 1/sqrt(D))");
        float scale = o.Scale == 0f ? 1f / MathF.Sqrt(Math.Max(1, d)) : o.Scale;
        long capacity = checked((long)maxBlocks * p);
        int longest = LengthsInRange(kv, pages, p, maxBlocks, capacity);

        if ((o.SelectedKeys is null) != (o.SelectedCounts is null))
            ThrowHelper.Argument(Op, o.SelectedKeys is null ? "SelectedKeys" : "SelectedCounts", "is null; SelectedKeys and SelectedCounts go together");
        if (o.SelectedKeys is { } sel)
        {
            Check.Operand(Op, "SelectedKeys", sel, q, "q", DType.I32);
            Check.Rank(Op, "SelectedKeys", sel, 3, "[B, Hkv, MaxSel]");
            Check.Shape(Op, "SelectedKeys", sel, new Shape(b, hkv, sel.Shape[2]), "[B, Hkv, MaxSel]", kv.BlockTables, "BlockTables");
            Check.Contiguous(Op, "SelectedKeys", sel);
            var counts = o.SelectedCounts!;
            Check.Operand(Op, "SelectedCounts", counts, q, "q", DType.I32);
            Check.Shape(Op, "SelectedCounts", counts, new Shape(b, hkv), "[B, Hkv]", kv.BlockTables, "BlockTables");
            Check.Contiguous(Op, "SelectedCounts", counts);
            SelectionInRange(sel, counts, kv.Lengths);
        }
        bool anyCompensation = o.CompensationKeys is not null || o.CompensationValues is not null || o.CompensationBias is not null;
        if (anyCompensation)
        {
            foreach (var (name, t) in new[] { ("CompensationKeys", o.CompensationKeys), ("CompensationValues", o.CompensationValues) })
            {
                if (t is null) ThrowHelper.Argument(Op, name, "is null; CompensationKeys, CompensationValues and CompensationBias go together");
                Check.Operand(Op, name, t, q, "q", DType.F32);
                Check.Shape(Op, name, t!, new Shape(b, hkv, d), "[B, Hkv, D]", q, "q");
                Check.Contiguous(Op, name, t!);
            }
            if (o.CompensationBias is null) ThrowHelper.Argument(Op, "CompensationBias", "is null; CompensationKeys, CompensationValues and CompensationBias go together");
            Check.Operand(Op, "CompensationBias", o.CompensationBias, q, "q", DType.F32);
            Check.Shape(Op, "CompensationBias", o.CompensationBias!, new Shape(b, hkv), "[B, Hkv]", kv.BlockTables, "BlockTables");
            Check.Contiguous(Op, "CompensationBias", o.CompensationBias!);
        }
        float theta = o.Rope.Theta ?? 10000f;
        int rotary = o.Rope.RotaryDim == 0 ? d : o.Rope.RotaryDim;
        if (o.RenumberPositions)
        {
            if (!(theta > 0f) || !float.IsFinite(theta)) ThrowHelper.OutOfRange(Op, "Rope.Theta", theta, "it must be finite and > 0");
            if (rotary < 0 || rotary > d || rotary % 2 != 0)
                ThrowHelper.OutOfRange(Op, "Rope.RotaryDim", o.Rope.RotaryDim, $"it must be even and in [0, D = {d}] (0: all of D)");
        }

        int exportKeys = 0;
        Export("KeyTotals", o.KeyTotals, new Shape(b, h, 0), 2);
        Export("WindowTotals", o.WindowTotals, new Shape(b, h, 0), 2);
        Export("Probabilities", o.Probabilities, new Shape(b, tq, h, 0), 3);
        if (o.WindowTotals is not null && (o.WindowFromRow < 0 || o.WindowFromRow > tq))
            ThrowHelper.OutOfRange(Op, "WindowFromRow", o.WindowFromRow, $"it must lie in [0, Tq = {tq}]");

        return new PagedAttentionArgs(q, kv.KeyPages, kv.ValuePages, kv.BlockTables, kv.Lengths, dest,
            b, tq, h, hkv, d, p, maxBlocks, scale,
            o.SelectedKeys, o.SelectedCounts, o.CompensationKeys, o.CompensationValues, o.CompensationBias,
            o.RenumberPositions, theta, o.Rope.Layout, rotary,
            o.KeyTotals, o.WindowTotals, o.WindowFromRow, o.Probabilities, exportKeys);

        void Export(string name, Tensor? t, Shape leading, int keyAxis)
        {
            if (t is null) return;
            Check.Operand(Op, name, t, q, "q", DType.F32);
            Check.Contiguous(Op, name, t);
            var expected = leading;
            Check.Rank(Op, name, t, leading.Rank, keyAxis == 2 ? "[B, H, ExportKeys]" : "[B, Tq, H, ExportKeys]");
            int keys = t.Shape[keyAxis];
            for (int i = 0; i < keyAxis; i++)
                if (t.Shape[i] != leading[i])
                    ThrowHelper.Argument(Op, name, $"has shape {t.Shape}; expected {(keyAxis == 2 ? $"[B, H, ExportKeys] = [{b}, {h}, n]" : $"[B, Tq, H, ExportKeys] = [{b}, {tq}, {h}, n]")} for q {q.Shape}");
            if (keys < longest)
                ThrowHelper.Argument(Op, name, $"has shape {t.Shape}: {keys} keys, but a head holds {longest} tokens (Lengths); the last axis must cover every token");
            if (exportKeys != 0 && keys != exportKeys)
                ThrowHelper.Argument(Op, name, $"has {keys} keys in its last axis (shape {t.Shape}); every export must have the same width ({exportKeys})");
            exportKeys = keys;
        }
    }

    /// <summary>F32, F16 or BF16.</summary>
    public static void FloatDType(string op, string name, Tensor t)
    {
        if (t.DType is not (DType.F32 or DType.F16 or DType.BF16))
            ThrowHelper.Argument(op, name, $"has dtype {t.DType} (shape {t.Shape}); expected F32, F16 or BF16");
    }

    /// <summary>Host-visible slots lie in [0, capacity) and, for writes, are distinct.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SlotsInRange(string op, Tensor slots, long capacity, bool distinct)
    {
        if (slots.Storage is not CpuStorage) return;
        var s = slots.AsSpan<int>();
        foreach (int x in s)
            if (x < 0 || x >= capacity) ThrowHelper.Argument(op, "slots", $"holds {x} (shape {slots.Shape}); page rows must lie in [0, {capacity})");
        if (!distinct || s.Length < 2) return;
        int twice = FirstRepeated(s);
        if (twice >= 0) ThrowHelper.Argument(op, "slots", $"holds {twice} twice (shape {slots.Shape}); written page rows must be distinct");
    }

    // A value that occurs twice in s (all in [0, capacity), so non-negative), or -1; allocates nothing in the
    // steady state. A decode step writes one row per kv head (a handful of slots): pairwise compares there; longer
    // lists (prefill chunks, compaction moves) are sorted in a pooled copy and checked for equal neighbours.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int FirstRepeated(ReadOnlySpan<int> s)
    {
        const int PairwiseMax = 32;
        if (s.Length <= PairwiseMax)
        {
            for (int i = 1; i < s.Length; i++)
                if (s[..i].Contains(s[i])) return s[i];
            return -1;
        }
        var copy = System.Buffers.ArrayPool<int>.Shared.Rent(s.Length);
        try
        {
            var sorted = copy.AsSpan(0, s.Length);
            s.CopyTo(sorted);
            sorted.Sort();
            for (int i = 1; i < sorted.Length; i++)
                if (sorted[i] == sorted[i - 1]) return sorted[i];
            return -1;
        }
        finally
        {
            System.Buffers.ArrayPool<int>.Shared.Return(copy);
        }
    }

    // Lengths in [0, MaxBlocks * P], and every block a head uses names a page of the pool. Returns the longest head.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int LengthsInRange(in PagedKv kv, int pages, int p, int maxBlocks, long capacity)
    {
        if (kv.Lengths.Storage is not CpuStorage || kv.BlockTables.Storage is not CpuStorage) return 0;
        var lengths = kv.Lengths.AsSpan<int>();
        var tables = kv.BlockTables.AsSpan<int>();
        int longest = 0;
        for (int i = 0; i < lengths.Length; i++)
        {
            int n = lengths[i];
            if (n < 0 || n > capacity)
                ThrowHelper.Argument(Op, "Lengths", $"holds {n} at [{i / kv.Lengths.Shape[1]}, {i % kv.Lengths.Shape[1]}]; a head holds 0..MaxBlocks x P = {capacity} tokens");
            for (int blk = 0; blk < (n + p - 1) / p; blk++)
            {
                int page = tables[i * maxBlocks + blk];
                if (page < 0 || page >= pages)
                    ThrowHelper.Argument(Op, "BlockTables", $"names page {page} at [{i / kv.Lengths.Shape[1]}, {i % kv.Lengths.Shape[1]}, {blk}]; pages lie in [0, {pages})");
            }
            longest = Math.Max(longest, n);
        }
        return longest;
    }

    private static void SelectionInRange(Tensor sel, Tensor counts, Tensor lengths)
    {
        if (sel.Storage is not CpuStorage || counts.Storage is not CpuStorage || lengths.Storage is not CpuStorage) return;
        var s = sel.AsSpan<int>();
        var c = counts.AsSpan<int>();
        var l = lengths.AsSpan<int>();
        int max = sel.Shape[2];
        for (int i = 0; i < c.Length; i++)
        {
            if (c[i] < 0 || c[i] > max)
                ThrowHelper.Argument(Op, "SelectedCounts", $"holds {c[i]} at flat index {i}; counts lie in [0, MaxSel = {max}]");
            int prev = -1;
            for (int j = 0; j < c[i]; j++)
            {
                int x = s[i * max + j];
                if (x <= prev || x >= l[i])
                    ThrowHelper.Argument(Op, "SelectedKeys", $"holds {x} after {prev} at flat head {i}; selected tokens must be ascending within [0, Lengths = {l[i]})");
                prev = x;
            }
        }
    }
}
