// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Tensors;

/// <summary>
/// Options of <see cref="PagedAttention.Forward(Tensor, in PagedKv, Tensor, in PagedAttentionOptions)"/>. <c>default</c>
/// is plain causal attention over every cached token, scale 1/sqrt(D), keys read as cached, nothing exported.
/// </summary>
/// <param name="Scale">Logit scale; 0 means 1/sqrt(D).</param>
/// <param name="SelectedKeys">I32 [B, Hkv, MaxSel]: ascending token indices each kv head attends over (TokenSelect, Recycled Attention).</param>
/// <param name="SelectedCounts">I32 [B, Hkv]: how many leading entries of <paramref name="SelectedKeys"/> are valid (required with it).</param>
/// <param name="CompensationKeys">F32 [B, Hkv, D]: one extra key per kv head (RazorAttention's mean dropped key).</param>
/// <param name="CompensationValues">F32 [B, Hkv, D]: its value.</param>
/// <param name="CompensationBias">F32 [B, Hkv]: its logit bias (log of the tokens it stands for); -inf: no extra key for that head.</param>
/// <param name="RenumberPositions">
/// Keys are cached unrotated; the kernel rotates each key at its index within the attended list and each query at its
/// own index (<paramref name="Rope"/> gives theta, layout and rotary dims; its offset and positions are ignored).
/// </param>
/// <param name="Rope">RoPE settings used with <paramref name="RenumberPositions"/>.</param>
/// <param name="KeyTotals">Output F32 [B, H, ExportKeys]: probabilities summed over the chunk's rows, by token index (H2O).</param>
/// <param name="WindowTotals">Output F32 [B, H, ExportKeys]: the same over rows t &gt;= <paramref name="WindowFromRow"/> (SnapKV's observation window).</param>
/// <param name="WindowFromRow">First query row counted in <paramref name="WindowTotals"/>.</param>
/// <param name="Probabilities">Output F32 [B, Tq, H, ExportKeys]: every row's probabilities by token index (Recycled Attention, retrieval-head probes).</param>
public readonly record struct PagedAttentionOptions(
    float Scale = 0f,
    Tensor? SelectedKeys = null,
    Tensor? SelectedCounts = null,
    Tensor? CompensationKeys = null,
    Tensor? CompensationValues = null,
    Tensor? CompensationBias = null,
    bool RenumberPositions = false,
    RopeOptions Rope = default,
    Tensor? KeyTotals = null,
    Tensor? WindowTotals = null,
    int WindowFromRow = 0,
    Tensor? Probabilities = null);
