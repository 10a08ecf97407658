// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The fused ILGPU attention kernel on the CPU emulator (32-thread groups, 4 x 4 tiles) against the double reference
// at tiny shapes, one option at a time, plus one combined case against the CPU backend. Shapes cross several query
// blocks and key tiles with ragged edges.
namespace HpcCore.Gpu.Tests;

using HpcCore.Devices;
using HpcCore.Kernels;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Testing.Reference;

/// <summary>Fused attention on the emulator against ReferenceAttention and the CPU backend.</summary>
[Collection(IlgpuCpuGroup.Name)]
public sealed class IlgpuAttentionTests(IlgpuCpuFixture fixture)
{
    private void Check(AttentionCase c) => c.Check(fixture.Backend, tolerance: Tolerance.GpuF32);

    [Theory]
    [InlineData(1, 1, 1, 8)]
    [InlineData(1, 5, 7, 8)]
    [InlineData(2, 9, 3, 16)]
    [InlineData(1, 3, 5, 1)]
    [InlineData(1, 2, 6, 37)]
    public void Plain(int b, int tq, int tk, int d) => Check(new AttentionCase(b, tq, tk, 2, 2, d));

    [Theory]
    [InlineData(4, 2)]
    [InlineData(4, 1)]
    public void GroupedAndMultiQuery(int h, int hkv) => Check(new AttentionCase(2, 5, 6, h, hkv, 8));

    [Theory]
    [InlineData(3, 9)]
    [InlineData(9, 5)] // Tq > Tk: the first rows see no key at all (zeros)
    public void Causal_IsBottomRightAligned(int tq, int tk) =>
        Check(new AttentionCase(2, tq, tk, 4, 2, 8) { Causal = true });

    [Fact]
    public void SlidingWindow_LeftAndRight() => Check(new AttentionCase(1, 7, 9, 2, 2, 8) { Left = 2, Right = 1 });

    [Fact]
    public void SlidingWindow_WithCausal() => Check(new AttentionCase(1, 9, 9, 2, 1, 8) { Left = 3, Causal = true });

    [Theory]
    [InlineData(DType.Bool)]
    [InlineData(DType.U8)]
    public void PaddingMask(DType dtype) => Check(new AttentionCase(2, 5, 9, 2, 2, 8) { Pad = dtype });

    [Fact]
    public void KeyLengths_WithCausalAlignment() =>
        Check(new AttentionCase(2, 4, 9, 2, 1, 8) { Lengths = [9, 6], Causal = true });

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void KeyBias(int layout) => Check(new AttentionCase(2, 5, 7, 4, 2, 8) { Bias = layout });

    [Fact]
    public void PositionBias() => Check(new AttentionCase(1, 6, 6, 3, 3, 8) { Rel = true });

    [Fact]
    public void SoftCap_WithLargeLogits() => Check(new AttentionCase(1, 5, 9, 2, 2, 16) { SoftCap = 5f, Magnitude = 4f });

    [Fact]
    public void SelectedKeys_WithMasksAndExports() =>
        Check(new AttentionCase(2, 4, 9, 4, 2, 8) { Selected = 5, Causal = true, Pad = DType.Bool, Totals = true, Rows = [3, 0] });

    [Fact]
    public void Exports_TotalsAndRows() =>
        Check(new AttentionCase(2, 9, 9, 4, 2, 8) { Totals = true, Rows = [0, 4, 8, 4], Causal = true });

    [Fact]
    public void FullyMaskedRows_GiveZerosAndZeroExports() =>
        Check(new AttentionCase(2, 5, 7, 2, 2, 8) { Lengths = [0, 7], Left = 1, Right = 0, Totals = true, Rows = [0, 4] });

    [Fact]
    public void PackedQkvViews_AndStridedDestination() =>
        Check(new AttentionCase(2, 6, 6, 2, 2, 8) { Packed = true, Causal = true });

    [Fact]
    public void CombinedCase_MatchesCpuBackend()
    {
        var c = new AttentionCase(2, 6, 9, 4, 2, 16)
        {
            Causal = true, Left = 4, Pad = DType.U8, Lengths = [9, 7], Bias = 3, Rel = true, SoftCap = 8f,
            Totals = true, Rows = [5, 1],
        };
        var gpu = c.Run(fixture.Backend);
        var cpu = c.Run(fixture.Cpu);
        TensorAssert.Close(cpu.Output.Select(x => (double)x).ToArray(), gpu.Output, Tolerance.GpuF32, "output vs CPU");
        TensorAssert.Close(cpu.Totals!.Select(x => (double)x).ToArray(), gpu.Totals!, Tolerance.GpuF32.ForDot(c.Tq), "totals vs CPU");
        TensorAssert.Close(cpu.Rows!.Select(x => (double)x).ToArray(), gpu.Rows!, Tolerance.GpuF32, "rows vs CPU");
        c.Check(fixture.Backend, tolerance: Tolerance.GpuF32);
    }

    [Theory]
    [InlineData(0, 5)]
    [InlineData(3, 0)]
    public void EmptyQueriesOrKeys_GiveZeros(int tq, int tk) =>
        Check(new AttentionCase(1, tq, tk, 2, 2, 8) { Totals = true });

    [Theory]
    [InlineData(32, 32)] // GPU prefill
    [InlineData(1, 64)]  // GPU decode: query block = next power of two >= Tq, key tiles twice as long
    [InlineData(2, 64)]
    [InlineData(4, 64)]
    [InlineData(8, 64)]
    public void Tiles_FitSharedMemory_ForEveryHeadDimUpToTheLimit(int queryTileMax, int keyTileMax)
    {
        Assert.Equal((32, 32), LaunchPolicy.AttentionTilesFor(64, 32, 32));
        for (int d = 1; d <= LaunchPolicy.MaxAttentionHeadDim; d++)
        {
            var (bq, bk) = LaunchPolicy.AttentionTilesFor(d, queryTileMax, keyTileMax);
            Assert.True(bq >= 1 && bk >= 1 && bq <= queryTileMax && bk <= keyTileMax, $"D = {d}");
            Assert.True(LaunchPolicy.AttentionSharedFloats(d, bq, bk) * sizeof(float) <= LaunchPolicy.MaxAttentionSharedBytes, $"D = {d}");
        }
    }

    [Fact]
    public void HeadDimAboveTheLimit_IsNotSupported() =>
        Assert.Throws<NotSupportedException>(() =>
            new AttentionCase(1, 1, 1, 1, 1, LaunchPolicy.MaxAttentionHeadDim + 1).Run(fixture.Backend));

    [Fact]
    public void UnfusedVariant_IsNotSupported() =>
        Assert.Throws<NotSupportedException>(() => new AttentionCase(1, 2, 2, 2, 2, 8).Run(fixture.Backend, AttentionVariant.Unfused));
}
