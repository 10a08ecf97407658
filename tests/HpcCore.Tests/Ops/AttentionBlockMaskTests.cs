// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// BlockMask on every CPU attention path (tile kernel, decode kernel, unfused variant) against the double
// reference: block sizes 1, 7, 16 and 64 over odd lengths, broadcast masks, rows whose every block is dropped
// (zeros, never NaN), score exports (compacted kept keys mapped back to their slots), GQA, selected keys; and the
// KeyMeans export.
namespace HpcCore.Tests.Ops;

using HpcCore.Tensors;
using HpcCore.Testing;
using Xunit;

public sealed class AttentionBlockMaskTests : CpuAttentionTestBase
{
    [Theory]
    [InlineData(7, 31, 1, 8)]
    [InlineData(33, 127, 7, 32)]
    [InlineData(45, 129, 16, 64)]
    [InlineData(197, 197, 64, 64)]
    [InlineData(129, 300, 16, 12)]
    [InlineData(1, 33, 7, 16)]
    public void OddLengthsAndBlockSizes(int tq, int tk, int block, int d) =>
        Check(new AttentionCase(2, tq, tk, 2, 2, d) { Block = block });

    [Theory]
    [InlineData(16)]
    [InlineData(64)]
    public void BroadcastMask_WithCausalGqa(int block) =>
        Check(new AttentionCase(2, 150, 150, 4, 2, 32) { Block = block, BlockBroadcast = true, Causal = true });

    // One key block per row: about 2 in 5 query blocks keep nothing, so their rows must come out as zeros.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FullyMaskedRows_GiveZeros(bool exports) =>
        Check(new AttentionCase(1, 70, 16, 4, 1, 16) { Block = 16, Seed = 3, Totals = exports, Rows = exports ? [0, 69] : null });

    [Fact]
    public void Exports_WithMaskAndEveryLogitOption() =>
        Check(new AttentionCase(2, 67, 90, 4, 2, 32)
        {
            Block = 7, Totals = true, Rows = [0, 5, 66], SoftCap = 3f, Bias = 3, Rel = true, Left = 40, Pad = DType.U8,
        });

    [Fact]
    public void Exports_ChunkedGqa() =>
        Check(new AttentionCase(1, 300, 300, 4, 1, 32) { Block = 64, Totals = true, Rows = [0, 299], Causal = true });

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 64)]
    [InlineData(5, 16)]
    [InlineData(8, 1)]
    [InlineData(8, 64)]
    public void Decode(int tq, int block) =>
        Check(new AttentionCase(1, tq, 1500, 8, 2, 64) { Block = block, Causal = true, Lengths = [1400] });

    [Fact]
    public void Decode_BroadcastWithSplitsAndBias() =>
        Check(new AttentionCase(2, 4, 3000, 4, 1, 32) { Block = 64, BlockBroadcast = true, Bias = 2, SoftCap = 5f });

    [Fact]
    public void SelectedKeys_BlocksByKeyPosition() =>
        Check(new AttentionCase(2, 40, 300, 4, 2, 32) { Block = 16, Selected = 90, Totals = true, Rows = [3], Lengths = [300, 200] });

    [Fact]
    public void Decode_SelectedKeys() =>
        Check(new AttentionCase(1, 2, 2000, 4, 2, 64) { Block = 7, Selected = 1300 });

    [Theory]
    [InlineData(1, 1, 33, 4, 4, 8)]
    [InlineData(2, 197, 197, 12, 12, 64)]
    [InlineData(2, 5, 129, 8, 2, 16)]
    [InlineData(1, 1, 7, 4, 1, 12)]
    public void KeyMeans(int b, int tq, int tk, int h, int hkv, int d) =>
        Check(new AttentionCase(b, tq, tk, h, hkv, d) { Means = true, Totals = tq > 1 });

    [Fact]
    public void KeyMeans_WithNoQueries() => Check(new AttentionCase(2, 0, 9, 2, 2, 8) { Means = true });
}
