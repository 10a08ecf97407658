// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The decode kernel (Tq <= 8, head dim a multiple of 16: rows vectorised over D, keys split across the pool and
// merged by log-sum-exp) against the double reference: odd key counts, grouped and multi-query heads, every mask
// and logit option, key splits whose keys are all masked, and the score exports (KeyTotals, RowProbabilities)
// from the kept logits and the combined softmax normaliser, with and without key splits.
namespace HpcCore.Tests.Ops;

using HpcCore.Tensors;
using HpcCore.Testing;
using Xunit;

public sealed class AttentionDecodeTests : CpuAttentionTestBase
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 7)]
    [InlineData(2, 33)]
    [InlineData(1, 577)]
    [InlineData(3, 4099)]
    [InlineData(8, 4099)]
    public void OddKeyCounts(int tq, int tk) => Check(new AttentionCase(1, tq, tk, 8, 2, 64));

    [Theory]
    [InlineData(16)]
    [InlineData(80)]
    [InlineData(128)]
    [InlineData(256)]
    public void HeadDims(int d) => Check(new AttentionCase(1, 2, 700, 4, 2, d));

    [Theory]
    [InlineData(12, 3, 1)]
    [InlineData(8, 1, 4)]
    [InlineData(6, 6, 1)]
    [InlineData(32, 8, 1)]
    public void GroupedAndMultiQuery(int h, int hkv, int b) => Check(new AttentionCase(b, 1, 1031, h, hkv, 64));

    [Fact]
    public void CausalAndLengths_IncludingEmptyBatch() =>
        Check(new AttentionCase(3, 5, 1200, 4, 2, 64) { Causal = true, Lengths = [1200, 0, 517], Pad = DType.Bool });

    [Fact]
    public void SlidingWindow() => Check(new AttentionCase(1, 8, 3000, 4, 1, 32) { Left = 700, Causal = true });

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void KeyBiasAndSoftCap(int layout) =>
        Check(new AttentionCase(2, 4, 1100, 4, 2, 64) { Bias = layout, SoftCap = 5f, Magnitude = 4f });

    [Fact]
    public void RelativePositionBias() => Check(new AttentionCase(1, 3, 1300, 4, 2, 32) { Rel = true });

    [Fact]
    public void SelectedKeys() => Check(new AttentionCase(2, 2, 3000, 4, 2, 64) { Selected = 2500, Lengths = [3000, 1700], Bias = 3 });

    // Only about 3 of 4099 selected keys survive KeyLengths, so most key splits see no key at all (l = 0):
    // the combine must skip them rather than weigh in their -inf max or divide by zero.
    [Fact]
    public void FullyMaskedSplits_AreSkippedInTheCombine() =>
        Check(new AttentionCase(1, 1, 5000, 4, 1, 64) { Selected = 4099, Lengths = [4] });

    [Fact]
    public void HugeLogits_StayFinite() => Check(new AttentionCase(1, 2, 2000, 2, 1, 64) { Magnitude = 12f });

    [Fact]
    public void PackedQkvViews_AndStridedDestination() => Check(new AttentionCase(2, 6, 6, 3, 3, 32) { Packed = true, Causal = true });

    // 4099 keys at B1 are split across the pool: the exports need the normaliser of every split combined.
    [Theory]
    [InlineData(1, 8, 2)]
    [InlineData(3, 4, 4)]
    [InlineData(8, 4, 1)]
    public void Exports_AcrossKeySplits(int tq, int h, int hkv) =>
        Check(new AttentionCase(1, tq, 4099, h, hkv, 64) { Totals = true, Rows = [0, tq - 1] });

    // Four batches keep the keys of each in one item (no split): the item's own (m, l) normalise its logits.
    [Fact]
    public void Exports_WithoutSplits_CausalLengthsAndEmptyBatch() =>
        Check(new AttentionCase(4, 5, 300, 4, 2, 32) { Causal = true, Lengths = [300, 0, 117, 1], Pad = DType.Bool, Totals = true, Rows = [4, 0] });

    [Fact]
    public void Exports_WithEveryLogitOption() =>
        Check(new AttentionCase(2, 4, 1100, 4, 2, 64) { Totals = true, Rows = [1], Bias = 3, SoftCap = 5f, Rel = true, Left = 300, Right = 2, Magnitude = 4f });

    [Fact]
    public void Exports_BlockMaskAndWindow_LeaveUnseenSlotsAtZero() =>
        Check(new AttentionCase(1, 2, 3000, 4, 2, 64) { Block = 64, Causal = true, Left = 900, Lengths = [2500], Totals = true, Rows = [0, 1] });

    [Fact]
    public void Exports_SelectedKeys_WithFullyMaskedSplits() =>
        Check(new AttentionCase(1, 1, 5000, 4, 1, 64) { Selected = 4099, Lengths = [4], Totals = true, Rows = [0] });
}
