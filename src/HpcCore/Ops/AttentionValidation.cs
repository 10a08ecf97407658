// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Front-door checks of Attention.Forward, in the library's order: live -> device -> dtype -> rank -> shape -> layout
// -> scalars -> index ranges (the last only for host-visible CPU tensors; device kernels treat bad indices as dropped).
namespace HpcCore.Ops;

using HpcCore.Cpu;
using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>Validates and resolves the arguments of <see cref="Attention.Forward(Tensor, Tensor, Tensor, Tensor, in AttentionOptions)"/>.</summary>
internal static class AttentionValidation
{
    private const string Op = Attention.Op;

    public static AttentionArgs Resolve(Tensor q, Tensor k, Tensor v, Tensor dest, in AttentionOptions o)
    {
        HeadMajor("q", q, q, "[B, Tq, H, D]");
        HeadMajor("k", k, q, "[B, Tk, Hkv, D]");
        HeadMajor("v", v, q, "[B, Tk, Hkv, D]");
        HeadMajor("destination", dest, q, "[B, Tq, H, D]");
        int b = q.Shape[0], tq = q.Shape[1], h = q.Shape[2], d = q.Shape[3];
        int tk = k.Shape[1], hkv = k.Shape[2];
        if (k.Shape[0] != b || k.Shape[3] != d)
            ThrowHelper.Argument(Op, "k", $"has shape {k.Shape}; expected [B, Tk, Hkv, D] with B = {b} and D = {d} of q {q.Shape}");
        Check.Shape(Op, "v", v, k.Shape, "same as k", k, "k");
        if (hkv == 0 || h % hkv != 0)
            ThrowHelper.Argument(Op, "k", $"has {hkv} kv heads (shape {k.Shape}); q's {h} heads (shape {q.Shape}) must be a multiple");
        Check.Shape(Op, "destination", dest, q.Shape, "same as q", q, "q");
        Check.NoOverlap(Op, "destination", dest, "q", q);
        Check.NoOverlap(Op, "destination", dest, "k", k);
        Check.NoOverlap(Op, "destination", dest, "v", v);

        float scale = o.Scale == 0f ? 1f / MathF.Sqrt(Math.Max(1, d)) : o.Scale;
        if (!float.IsFinite(o.Scale)) ThrowHelper.OutOfRange(Op, "Scale", o.Scale, "it must be finite (0: 1/sqrt(D))");
        if (!(o.SoftCap >= 0f) || float.IsInfinity(o.SoftCap)) ThrowHelper.OutOfRange(Op, "SoftCap", o.SoftCap, "it must be finite and >= 0 (0: off)");
        if (o.WindowLeft is < 0) ThrowHelper.OutOfRange(Op, "WindowLeft", o.WindowLeft, "it must be >= 0 (null: unbounded)");
        if (o.WindowRight is < 0) ThrowHelper.OutOfRange(Op, "WindowRight", o.WindowRight, "it must be >= 0 (null: unbounded)");
        int left = o.WindowLeft ?? -1;
        int right = o.Causal ? 0 : o.WindowRight ?? -1;

        if (o.KeyPaddingMask is { } pad)
        {
            Check.Live(Op, "KeyPaddingMask", pad);
            Check.SameDevice(Op, "KeyPaddingMask", pad, q, "q");
            if (pad.DType is not (DType.Bool or DType.U8))
                ThrowHelper.Argument(Op, "KeyPaddingMask", $"has dtype {pad.DType} (shape {pad.Shape}); expected Bool or U8");
            Check.Contiguous(Op, "KeyPaddingMask", pad);
            Check.Shape(Op, "KeyPaddingMask", pad, new Shape(b, tk), "[B, Tk]", k, "k");
        }
        if (o.KeyLengths is { } len)
        {
            Check.Operand(Op, "KeyLengths", len, q, "q", DType.I32);
            Check.Shape(Op, "KeyLengths", len, new Shape(b), "[B]", q, "q");
            InRange("KeyLengths", len, 0, tk, "key lengths must lie in [0, Tk]");
        }
        if (o.KeyBias is { } bias)
        {
            Check.Operand(Op, "KeyBias", bias, q, "q", DType.F32);
            if (bias.Shape != new Shape(b, tk) && bias.Shape != new Shape(b, hkv, tk))
                ThrowHelper.Argument(Op, "KeyBias", $"has shape {bias.Shape}; expected [B, Tk] = [{b}, {tk}] or [B, Hkv, Tk] = [{b}, {hkv}, {tk}] (k is {k.Shape})");
        }
        if (o.PositionBias is { } rel)
        {
            Check.Operand(Op, "PositionBias", rel, q, "q", DType.F32);
            Check.Shape(Op, "PositionBias", rel, new Shape(h, tq, tk), "[H, Tq, Tk]", q, "q");
        }
        int slots = tk;
        if (o.SelectedKeys is { } sel)
        {
            Check.Operand(Op, "SelectedKeys", sel, q, "q", DType.I32);
            Check.Rank(Op, "SelectedKeys", sel, 3, "[B, Hkv, nSel]");
            Check.Shape(Op, "SelectedKeys", sel, new Shape(b, hkv, sel.Shape[2]), "[B, Hkv, nSel]", k, "k");
            InRange("SelectedKeys", sel, 0, tk - 1, "key indices must lie in [0, Tk)");
            slots = sel.Shape[2];
        }
        if (o.KeyTotals is { } totals)
        {
            Check.Operand(Op, "KeyTotals", totals, q, "q", DType.F32);
            Check.Shape(Op, "KeyTotals", totals, new Shape(b, h, slots), "[B, H, Nk]", q, "q");
        }
        if ((o.RowIndices is null) != (o.RowProbabilities is null))
            ThrowHelper.Argument(Op, o.RowIndices is null ? "RowIndices" : "RowProbabilities", "is null; RowIndices and RowProbabilities go together");
        if (o.RowIndices is { } rows)
        {
            Check.Operand(Op, "RowIndices", rows, q, "q", DType.I32);
            Check.Rank(Op, "RowIndices", rows, 1, "[nRows]");
            InRange("RowIndices", rows, 0, tq - 1, "query indices must lie in [0, Tq)");
            var probs = o.RowProbabilities!;
            Check.Operand(Op, "RowProbabilities", probs, q, "q", DType.F32);
            Check.Shape(Op, "RowProbabilities", probs, new Shape(b, h, rows.Shape[0], slots), "[B, H, nRows, Nk]", q, "q");
        }
        int blockSize = o.BlockSize == 0 ? AttentionOptions.DefaultBlockSize : o.BlockSize;
        if (o.BlockSize < 0) ThrowHelper.OutOfRange(Op, "BlockSize", o.BlockSize, "it must be > 0 (0: 64)");
        if (o.BlockMask is { } blocks)
        {
            Check.Live(Op, "BlockMask", blocks);
            Check.SameDevice(Op, "BlockMask", blocks, q, "q");
            if (blocks.DType is not (DType.Bool or DType.U8))
                ThrowHelper.Argument(Op, "BlockMask", $"has dtype {blocks.DType} (shape {blocks.Shape}); expected Bool or U8");
            Check.Contiguous(Op, "BlockMask", blocks);
            Check.Rank(Op, "BlockMask", blocks, 4, "[B or 1, H or 1, ceil(Tq / BlockSize), ceil(Tk / BlockSize)]");
            int qb = (tq + blockSize - 1) / blockSize, kb = (tk + blockSize - 1) / blockSize;
            if ((blocks.Shape[0] != b && blocks.Shape[0] != 1) || (blocks.Shape[1] != h && blocks.Shape[1] != 1)
                || blocks.Shape[2] != qb || blocks.Shape[3] != kb)
                ThrowHelper.Argument(Op, "BlockMask", $"has shape {blocks.Shape}; expected [{b} or 1, {h} or 1, {qb}, {kb}] for q {q.Shape}, k {k.Shape} and BlockSize {blockSize}");
        }
        if (o.KeyMeans is { } means)
        {
            Check.Operand(Op, "KeyMeans", means, q, "q", DType.F32);
            Check.Shape(Op, "KeyMeans", means, new Shape(b, tk, d), "[B, Tk, D]", k, "k");
        }
        return new AttentionArgs(q, k, v, dest,
            HeadStrides.Of(q), HeadStrides.Of(k), HeadStrides.Of(v), HeadStrides.Of(dest),
            b, tq, tk, h, hkv, d, scale, o.SoftCap, left, right,
            o.KeyPaddingMask, o.KeyLengths, o.KeyBias, o.PositionBias, o.SelectedKeys,
            o.KeyTotals, o.RowIndices, o.RowProbabilities, o.Variant,
            o.BlockMask, blockSize, o.KeyMeans);
    }

    /// <summary>A live rank-4 operand on q's device with q's dtype (F32, F16 or BF16) whose last axis is contiguous.</summary>
    private static void HeadMajor(string name, Tensor t, Tensor q, string layout)
    {
        Check.Live(Op, name, t);
        Check.SameDevice(Op, name, t, q, "q");
        if (q.DType is not (DType.F32 or DType.F16 or DType.BF16))
            ThrowHelper.Argument(Op, "q", $"has dtype {q.DType} (shape {q.Shape}); expected F32, F16 or BF16");
        if (t.DType != q.DType)
            ThrowHelper.Argument(Op, name, $"has dtype {t.DType} (shape {t.Shape}); expected q's dtype {q.DType}");
        Check.Rank(Op, name, t, 4, layout);
        if (t.Shape[3] > 1 && t.Stride(3) != 1)
            ThrowHelper.Argument(Op, name, $"has shape {t.Shape} with head-dim stride {t.Stride(3)}; the last axis must be contiguous");
    }

    /// <summary>Every element of a host-visible I32 index tensor lies in [lo, hi].</summary>
    private static void InRange(string name, Tensor t, int lo, int hi, string rule)
    {
        if (t.Storage is not CpuStorage) return;
        foreach (int x in t.AsSpan<int>())
            if (x < lo || x > hi) ThrowHelper.Argument(Op, name, $"holds {x} (shape {t.Shape}); {rule}");
    }
}
