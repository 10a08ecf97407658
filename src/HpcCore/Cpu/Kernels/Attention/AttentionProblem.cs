// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The resolved attention problem as raw pointers and strides, shared by the fused tile kernel, the split-K combine
// and the unfused reference so that all of them mask and bias logits identically.
using System.Runtime.CompilerServices;
using HpcCore.Kernels;

namespace HpcCore.Cpu;

/// <summary>Pointers, strides and options of one attention call (see <see cref="AttentionArgs"/>).</summary>
internal unsafe struct AttentionProblem
{
    public float* Q, K, V, O;

    /// <summary>
    /// An F16/BF16 KV cache the decode kernel widens per key block (K and V then null), with its dtype; else null.
    /// </summary>
    public ushort* KHalf, VHalf;
    public HpcCore.Tensors.DType HalfType;
    public HeadStrides Qs, Ks, Vs, Os;
    public int Batch, Tq, Tk, Heads, KvHeads, D, Group, Slots;
    public float Scale, SoftCap;
    public AttentionVariant Variant;

    /// <summary>Window extents around the aligned diagonal; -1 is unbounded (causal is Right = 0).</summary>
    public int Left, Right;

    public byte* Pad;
    public int* Lengths, Selected, RowIndices;
    public float* KeyBias, PositionBias, KeyTotals, RowProbabilities;
    public long KeyBiasHeadStride;
    public int RowCount;

    /// <summary>Block mask [Bm, Hm, QueryBlocks, KeyBlocks] or null; batch and head strides are 0 when broadcast.</summary>
    public byte* BlockMask;
    public int BlockSize, MaskKeyBlocks;
    public long MaskBatchStride, MaskHeadStride;

    public static AttentionProblem From(in AttentionArgs a) => new()
    {
        Q = CpuKernels.Ptr<float>(a.Q), K = CpuKernels.Ptr<float>(a.K), V = CpuKernels.Ptr<float>(a.V), O = CpuKernels.Ptr<float>(a.Dest),
        Qs = a.QStrides, Ks = a.KStrides, Vs = a.VStrides, Os = a.DestStrides,
        Batch = a.Batch, Tq = a.QueryLength, Tk = a.KeyLength, Heads = a.Heads, KvHeads = a.KvHeads, D = a.HeadDim,
        Group = a.Heads / a.KvHeads, Slots = a.KeySlots, Scale = a.Scale, SoftCap = a.SoftCap, Variant = a.Variant,
        Left = a.WindowLeft, Right = a.WindowRight,
        Pad = a.KeyPaddingMask is { } p ? CpuKernels.Ptr<byte>(p) : null,
        Lengths = a.KeyLengths is { } l ? CpuKernels.Ptr<int>(l) : null,
        Selected = a.SelectedKeys is { } s ? CpuKernels.Ptr<int>(s) : null,
        RowIndices = a.RowIndices is { } r ? CpuKernels.Ptr<int>(r) : null,
        RowCount = a.RowIndices?.Shape[0] ?? 0,
        KeyBias = a.KeyBias is { } kb ? CpuKernels.Ptr<float>(kb) : null,
        KeyBiasHeadStride = a.KeyBias is { Rank: 3 } ? a.KeyLength : 0,
        PositionBias = a.PositionBias is { } pb ? CpuKernels.Ptr<float>(pb) : null,
        KeyTotals = a.KeyTotals is { } kt ? CpuKernels.Ptr<float>(kt) : null,
        RowProbabilities = a.RowProbabilities is { } rp ? CpuKernels.Ptr<float>(rp) : null,
        BlockMask = a.BlockMask is { } bm ? CpuKernels.Ptr<byte>(bm) : null,
        BlockSize = a.BlockSize,
        MaskKeyBlocks = a.BlockMask?.Shape[3] ?? 0,
        MaskBatchStride = a.BlockMask is { } bb && bb.Shape[0] > 1 ? (long)bb.Shape[1] * bb.Shape[2] * bb.Shape[3] : 0,
        MaskHeadStride = a.BlockMask is { } bh && bh.Shape[1] > 1 ? (long)bh.Shape[2] * bh.Shape[3] : 0,
    };

    /// <summary>
    /// The block-mask row of query t of head h in batch b (entry pos / BlockSize keeps key position pos), or null
    /// without a block mask.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly byte* BlockRow(int b, int h, int t) =>
        BlockMask == null ? null : BlockMask + b * MaskBatchStride + h * MaskHeadStride + (long)(t / BlockSize) * MaskKeyBlocks;

    /// <summary>True when any score export is requested.</summary>
    public readonly bool Exports => KeyTotals != null || RowProbabilities != null;

    /// <summary>Keys visible to batch b: KeyLengths[b] or Tk.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int KeyLength(int b) => Lengths != null ? Lengths[b] : Tk;

    /// <summary>
    /// Key slots [Start, End) one work item scans: every slot for selected keys (their positions are arbitrary),
    /// else the union [minLo, maxHi] of its rows' visible ranges clipped to the key length; then, when the keys are
    /// split over <paramref name="splits"/> items, share <paramref name="split"/> of that range.
    /// </summary>
    public readonly (int Start, int End) KeySlots(int minLo, int maxHi, int keyLength, int splits, int split)
    {
        int start = 0, end = Slots;
        if (Selected == null)
        {
            start = (int)Math.Clamp(minLo, 0L, keyLength);
            end = (int)Math.Clamp(maxHi + 1L, start, keyLength);
        }
        if (splits > 1)
        {
            var (a, z) = CpuKernels.Range(end - start, splits, split);
            (start, end) = (start + (int)a, start + (int)z);
        }
        return (start, end);
    }

    /// <summary>Key position of slot j of kv head hkv in batch b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int Position(int b, int hkv, int j) => Selected != null ? Selected[((long)b * KvHeads + hkv) * Slots + j] : j;

    /// <summary>True when a per-key additive term (bias, padding, or lengths of a selected list) exists.</summary>
    public readonly bool HasKeyAdd => KeyBias != null || Pad != null || (Selected != null && Lengths != null);

    /// <summary>The per-key additive logit term: the key bias, or -inf for a padded or out-of-length key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float KeyAdd(int b, int hkv, int pos, int keyLength)
    {
        if (pos >= keyLength || (Pad != null && Pad[(long)b * Tk + pos] == 0)) return float.NegativeInfinity;
        return KeyBias != null ? KeyBias[(long)b * Tk * (KeyBiasHeadStride == 0 ? 1 : KvHeads) + hkv * KeyBiasHeadStride + pos] : 0f;
    }

    /// <summary>
    /// The final logit of query t of head h for key position pos given its raw scaled score, or -inf when masked
    /// (the scalar form of what the fused tile does with vectors).
    /// </summary>
    public readonly float Logit(int b, int h, int t, int pos, int keyLength, float s)
    {
        int off = keyLength - Tq;
        if ((Left >= 0 && pos < t + off - Left) || (Right >= 0 && pos > t + off + Right)) return float.NegativeInfinity;
        if (SoftCap > 0f) s = AttentionMath.SoftCap(s, SoftCap);
        if (PositionBias != null) s += PositionBias[((long)h * Tq + t) * Tk + pos];
        return s + KeyAdd(b, h / Group, pos, keyLength);
    }
}
