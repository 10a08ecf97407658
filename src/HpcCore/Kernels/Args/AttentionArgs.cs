// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Resolved attention arguments, shaped like flash-attention's Flash_fwd_params: base tensors plus element strides
// for the batch, token and head axes (the head-dim axis has stride 1), so one struct serves CPU and GPU kernels.
namespace HpcCore.Kernels;

using HpcCore.Tensors;

/// <summary>Which attention algorithm runs.</summary>
public enum AttentionVariant
{
    /// <summary>The fused tiled kernel (the default).</summary>
    Fused,
    /// <summary>
    /// The unfused reference: one full score row per query (scores, softmax, then the weighted sum of values).
    /// Kept for tests and as a benchmark baseline.
    /// </summary>
    Unfused,
}

/// <summary>Element strides of a [B, T, H, D] operand for its batch, token and head axes (D has stride 1).</summary>
/// <param name="Batch">Stride of B.</param>
/// <param name="Token">Stride of T.</param>
/// <param name="Head">Stride of H.</param>
public readonly record struct HeadStrides(long Batch, long Token, long Head)
{
    /// <summary>The strides of the first three axes of a rank-4 tensor.</summary>
    public static HeadStrides Of(Tensor t) => new(t.Stride(0), t.Stride(1), t.Stride(2));
}

/// <summary>
/// Validated attention arguments. Q [B, Tq, H, D], K and V [B, Tk, Hkv, D], Dest [B, Tq, H, D], all of one dtype
/// (F32, F16 or BF16; a kernel set throws NotSupportedException for a dtype it lacks; accumulation is F32) with
/// element strides given (the D axis is contiguous). Query head h reads kv head <c>h / (H / Hkv)</c>.
/// Logit of (query t, key slot j): <c>s = Scale * q.k</c>; then <c>SoftCap * tanh(s / SoftCap)</c> when SoftCap &gt; 0;
/// plus KeyBias[b, (hkv,) pos] and PositionBias[h, t, pos]; key position pos = j, or SelectedKeys[b, hkv, j].
/// A key is dropped when KeyPaddingMask[b, pos] is 0, when pos &gt;= KeyLengths[b], or when it lies outside
/// <c>[t + off - WindowLeft, t + off + WindowRight]</c> with <c>off = L_b - Tq</c> (bottom-right alignment; L_b is
/// KeyLengths[b] or Tk; a negative extent is unbounded; causal is WindowRight = 0). Rows with no key left give zeros.
/// Optional exports: KeyTotals F32 [B, H, Nk] (probabilities summed over queries, Nk = Tk or nSel), and
/// RowProbabilities F32 [B, H, nRows, Nk] for the query positions in RowIndices I32 [nRows]; both contiguous.
/// BlockMask (Bool or U8, contiguous [B or 1, H or 1, ceil(Tq / BlockSize), ceil(Tk / BlockSize)]) drops the pair
/// (t, pos) when its entry at [b, h, t / BlockSize, pos / BlockSize] is 0 (size-1 axes broadcast). KeyMeans F32
/// [B, Tk, D] (contiguous) receives K averaged over the kv heads.
/// </summary>
public readonly record struct AttentionArgs(
    Tensor Q, Tensor K, Tensor V, Tensor Dest,
    HeadStrides QStrides, HeadStrides KStrides, HeadStrides VStrides, HeadStrides DestStrides,
    int Batch, int QueryLength, int KeyLength, int Heads, int KvHeads, int HeadDim,
    float Scale, float SoftCap, int WindowLeft, int WindowRight,
    Tensor? KeyPaddingMask, Tensor? KeyLengths, Tensor? KeyBias, Tensor? PositionBias, Tensor? SelectedKeys,
    Tensor? KeyTotals, Tensor? RowIndices, Tensor? RowProbabilities,
    AttentionVariant Variant,
    Tensor? BlockMask, int BlockSize, Tensor? KeyMeans)
{
    /// <summary>Key slots each query attends over: nSel with SelectedKeys, else Tk.</summary>
    public int KeySlots => SelectedKeys is { } s ? s.Shape[2] : KeyLength;
}
