// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>
/// Options for <see cref="Attention.Forward(Tensor, Tensor, Tensor, in AttentionOptions)"/>. <c>default</c> is plain
/// softmax attention with scale 1/sqrt(D). Masks combine: a key is kept only when every mask keeps it.
/// </summary>
/// <param name="Scale">Logit scale; 0 means 1/sqrt(D).</param>
/// <param name="Causal">Query t sees keys up to t + (L - Tq), L the key length (flash-attn's bottom-right alignment).</param>
/// <param name="WindowLeft">Sliding window: keys at most this far left of the aligned diagonal (null: unbounded).</param>
/// <param name="WindowRight">Sliding window: keys at most this far right of the aligned diagonal (null: unbounded).</param>
/// <param name="SoftCap">Logit soft-capping <c>cap * tanh(s / cap)</c> (Gemma 2, Grok); 0 disables it.</param>
/// <param name="KeyPaddingMask">Bool or U8 [B, Tk]: nonzero keeps the key.</param>
/// <param name="KeyLengths">I32 [B]: keys at positions &gt;= KeyLengths[b] are dropped (and causal aligns to it).</param>
/// <param name="KeyBias">F32 [B, Tk] or [B, Hkv, Tk] added to the logits per key (ToMe's log(size), RazorAttention's log(n)).</param>
/// <param name="PositionBias">F32 [H, Tq, Tk] added to the logits (window attention's relative-position bias).</param>
/// <param name="SelectedKeys">
/// I32 [B, Hkv, nSel]: attend only over these key positions of each kv head (TokenSelect, Recycled Attention), read in
/// place without copying K and V. Exports are then indexed by slot (Nk = nSel).
/// </param>
/// <param name="KeyTotals">Output F32 [B, H, Nk]: attention probabilities summed over queries (attention received).</param>
/// <param name="RowIndices">I32 [nRows]: query positions whose probability rows are exported (e.g. 0 for [CLS]).</param>
/// <param name="RowProbabilities">Output F32 [B, H, nRows, Nk]: the probability rows of <paramref name="RowIndices"/>.</param>
/// <param name="Variant">Fused (default) or the unfused reference.</param>
/// <param name="BlockMask">
/// Bool or U8 [B or 1, H or 1, ceil(Tq / BlockSize), ceil(Tk / BlockSize)]: block-sparse mask; a zero entry drops
/// every (query, key) pair of that block (key blocks are by key position, also with SelectedKeys), so the kernel can
/// skip the block without computing it (BigBird/Longformer-style patterns, block-diagonal FIT/Block Transformer).
/// </param>
/// <param name="BlockSize">Edge of a <paramref name="BlockMask"/> block in queries and keys; 0 means 64.</param>
/// <param name="KeyMeans">
/// Output F32 [B, Tk, D]: the keys averaged over the Hkv kv heads (ToMe's merge metric <c>k.mean(1)</c>; with GQA the
/// mean over the H expanded heads is the same), written from the K the kernel reads anyway.
/// </param>
public readonly record struct AttentionOptions(
    float Scale = 0f,
    bool Causal = false,
    int? WindowLeft = null,
    int? WindowRight = null,
    float SoftCap = 0f,
    Tensor? KeyPaddingMask = null,
    Tensor? KeyLengths = null,
    Tensor? KeyBias = null,
    Tensor? PositionBias = null,
    Tensor? SelectedKeys = null,
    Tensor? KeyTotals = null,
    Tensor? RowIndices = null,
    Tensor? RowProbabilities = null,
    AttentionVariant Variant = AttentionVariant.Fused,
    Tensor? BlockMask = null,
    int BlockSize = 0,
    Tensor? KeyMeans = null)
{
    /// <summary>Block edge used when <see cref="BlockSize"/> is 0.</summary>
    public const int DefaultBlockSize = 64;
}
