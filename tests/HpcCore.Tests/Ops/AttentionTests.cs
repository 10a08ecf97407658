// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Attention.Forward (fused and unfused variants) against the double reference over odd lengths, head dims and
// every option; combinations are sampled, not crossed, to keep the set at a few seconds on 2 cores.
namespace HpcCore.Tests.Ops;

using HpcCore.Tensors;
using HpcCore.Testing;
using Xunit;

public sealed class AttentionTests : CpuAttentionTestBase
{
    [Theory]
    [InlineData(1, 1, 8)]
    [InlineData(7, 7, 32)]
    [InlineData(33, 33, 80)]
    [InlineData(127, 127, 128)]
    [InlineData(197, 197, 64)]
    [InlineData(7, 577, 64)]
    [InlineData(577, 33, 8)]
    [InlineData(33, 127, 12)]
    [InlineData(45, 70, 4)]
    [InlineData(20, 33, 3)]
    public void OddLengthsAndHeadDims(int tq, int tk, int d) => Check(new AttentionCase(1, tq, tk, 2, 2, d));

    [Theory]
    [InlineData(33, 127)]
    [InlineData(127, 33)]
    [InlineData(197, 197)]
    public void Causal_IsBottomRightAligned(int tq, int tk) =>
        Check(new AttentionCase(2, tq, tk, 4, 2, 32) { Causal = true });

    [Fact]
    public void SlidingWindow_LeftAndRight() => Check(new AttentionCase(1, 77, 200, 2, 2, 64) { Left = 5, Right = 3 });

    [Fact]
    public void SlidingWindow_WithCausal() => Check(new AttentionCase(1, 150, 150, 2, 1, 32) { Left = 40, Causal = true });

    [Theory]
    [InlineData(8, 2)]
    [InlineData(4, 1)]
    public void GroupedAndMultiQuery(int h, int hkv) => Check(new AttentionCase(2, 33, 45, h, hkv, 64));

    [Fact]
    public void PaddingMaskAndLengths_IncludingEmptyBatch() =>
        Check(new AttentionCase(3, 20, 37, 2, 2, 32) { Pad = DType.Bool, Lengths = [37, 11, 0], Causal = true });

    [Fact]
    public void SoftCap_WithLargeLogits() => Check(new AttentionCase(1, 33, 65, 2, 2, 64) { SoftCap = 5f, Magnitude = 4f });

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void KeyBias(int layout) => Check(new AttentionCase(2, 21, 40, 4, 2, 32) { Bias = layout });

    [Fact]
    public void RelativePositionBias_WindowAttention() => Check(new AttentionCase(4, 49, 49, 3, 3, 32) { Rel = true });

    [Fact]
    public void HugeLogits_StayFinite() => Check(new AttentionCase(1, 40, 70, 2, 2, 64) { Magnitude = 12f });

    [Fact]
    public void PackedQkvViews_AndStridedDestination() => Check(new AttentionCase(2, 45, 45, 3, 3, 32) { Packed = true, Causal = true });

    [Fact]
    public void Exports_TotalsAndRows() =>
        Check(new AttentionCase(2, 197, 197, 2, 2, 64) { Totals = true, Rows = [0, 5, 196] });

    [Fact]
    public void Exports_WithCausalGqaAndChunks() =>
        Check(new AttentionCase(1, 300, 300, 4, 1, 32) { Totals = true, Rows = [0, 299, 31, 32], Causal = true, Pad = DType.Bool });

    [Fact]
    public void Exports_WithEveryLogitOption() =>
        Check(new AttentionCase(2, 33, 50, 2, 1, 16) { Totals = true, Rows = [3], SoftCap = 3f, Bias = 3, Rel = true, Left = 10, Right = 2 });

    [Theory]
    [InlineData(1, 2, 1)]
    [InlineData(4, 4, 4)]
    [InlineData(8, 8, 2)]
    public void Decode_SplitsKeysAcrossCores(int tq, int h, int hkv) =>
        Check(new AttentionCase(1, tq, 1500, h, hkv, 64) { Causal = true, Lengths = [1400] });

    // One lane block of rows over 1500 keys: too few tiles for the cores, so the fused tile splits the keys and the
    // combine merges the partial (O, m, l), m in natural-log units whatever units the tile kept its scores in.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Tile_SplitsKeysAcrossCores(bool logitOptions) =>
        Check(logitOptions
            ? new AttentionCase(1, 20, 1500, 1, 1, 64) { SoftCap = 5f, Bias = 1, Causal = true, Lengths = [1400] }
            : new AttentionCase(1, 20, 1500, 1, 1, 64));

    [Fact]
    public void Decode_WithExports() => Check(new AttentionCase(2, 3, 577, 4, 2, 128) { Totals = true, Rows = [2] });

    [Fact]
    public void SelectedKeys_ReadInPlace() =>
        Check(new AttentionCase(2, 9, 300, 4, 2, 32) { Selected = 70, Causal = true, Lengths = [300, 250], Bias = 2 });

    [Fact]
    public void SelectedKeys_WithExports() =>
        Check(new AttentionCase(1, 40, 200, 2, 1, 64) { Selected = 133, Totals = true, Rows = [0, 39] });
}
