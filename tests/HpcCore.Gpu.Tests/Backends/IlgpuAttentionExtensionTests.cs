// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The ILGPU attention options added after the first kernel, on the CPU emulator (32-thread groups, 4 x 4 tiles, 8-key
// decode tiles) against the double reference at tiny, odd shapes: F16 and BF16 operands, BlockMask (block edges
// smaller than, equal to and not dividing the tiles; broadcast; with exports and selected keys), KeyMeans, and the
// split-over-keys decode path (Tq <= 8), whose use is asserted through LaunchPolicy so the tests cover it.
namespace HpcCore.Gpu.Tests;

using HpcCore.Tensors;
using HpcCore.Testing;

/// <summary>F16/BF16, BlockMask, KeyMeans and split decode of the ILGPU attention against ReferenceAttention.</summary>
[Collection(IlgpuCpuGroup.Name)]
public sealed class IlgpuAttentionExtensionTests(IlgpuCpuFixture fixture)
{
    private void Check(AttentionCase c) => c.Check(fixture.Backend, tolerance: Tolerance.GpuF32);

    private LaunchPolicy.AttentionPlan Plan(AttentionCase c, bool exports = false) =>
        fixture.Backend.Policy.AttentionPlanFor(c.Tq, c.Selected > 0 ? c.Selected : c.Tk, (long)c.B * c.H, c.D, exports);

    [Theory]
    [InlineData(DType.F16, 1, 5, 7, 8)]
    [InlineData(DType.F16, 2, 9, 6, 37)]
    [InlineData(DType.BF16, 1, 5, 7, 8)]
    [InlineData(DType.BF16, 2, 9, 6, 17)]
    public void ReducedPrecisionOperands(DType dtype, int b, int tq, int tk, int d) =>
        Check(new AttentionCase(b, tq, tk, 2, 2, d) { DType = dtype });

    [Theory]
    [InlineData(DType.F16)]
    [InlineData(DType.BF16)]
    public void ReducedPrecision_SingleElementOperands(DType dtype) =>
        // 2-byte storages: the F32 placeholder views of absent options are empty there.
        Check(new AttentionCase(1, 1, 1, 1, 1, 1) { DType = dtype });

    [Theory]
    [InlineData(DType.F16)]
    [InlineData(DType.BF16)]
    public void ReducedPrecision_WithMasksBiasAndExports(DType dtype) =>
        Check(new AttentionCase(2, 7, 9, 4, 2, 8)
        {
            DType = dtype, Causal = true, Pad = DType.U8, Bias = 3, SoftCap = 6f, Totals = true, Rows = [6, 0],
        });

    [Theory]
    [InlineData(1)] // every pair its own block
    [InlineData(2)] // several blocks per tile
    [InlineData(3)] // blocks straddle tile edges
    [InlineData(4)] // one block per tile
    [InlineData(8)] // one block over several tiles (whole tiles skipped)
    public void BlockMask(int block) => Check(new AttentionCase(2, 9, 11, 2, 2, 8) { Block = block });

    [Fact]
    public void BlockMask_Broadcast_WithCausalGqaAndExports() =>
        Check(new AttentionCase(2, 9, 9, 4, 2, 8) { Block = 2, BlockBroadcast = true, Causal = true, Totals = true, Rows = [8, 1] });

    [Fact]
    public void BlockMask_WithTotalsOnly_SkipsTilesInTheExportPass() =>
        Check(new AttentionCase(1, 9, 13, 2, 1, 8) { Block = 4, Totals = true });

    [Fact]
    public void BlockMask_WithSelectedKeys_MasksByKeyPosition() =>
        Check(new AttentionCase(2, 6, 11, 4, 2, 8) { Block = 3, Selected = 7, Totals = true, Rows = [5] });

    [Fact]
    public void BlockMask_F16() => Check(new AttentionCase(1, 7, 10, 2, 2, 8) { Block = 3, DType = DType.F16 });

    [Theory]
    [InlineData(DType.F32, 4, 2)]
    [InlineData(DType.F32, 3, 3)]
    [InlineData(DType.F16, 4, 1)]
    [InlineData(DType.BF16, 2, 2)]
    public void KeyMeans(DType dtype, int h, int hkv) =>
        Check(new AttentionCase(2, 3, 7, h, hkv, 9) { Means = true, DType = dtype });

    [Fact]
    public void KeyMeans_AreWrittenWithoutQueries() => Check(new AttentionCase(1, 0, 5, 2, 2, 8) { Means = true });

    [Theory]
    [InlineData(1, 37, 2, 2, 8)]
    [InlineData(1, 64, 4, 1, 16)]
    [InlineData(3, 33, 2, 2, 8)]
    [InlineData(8, 41, 2, 1, 7)]
    public void Decode_SplitsOverKeys(int tq, int tk, int h, int hkv, int d)
    {
        var c = new AttentionCase(1, tq, tk, h, hkv, d);
        Assert.True(Plan(c).Splits > 1, $"{c}: {Plan(c)}");
        Check(c);
    }

    [Fact]
    public void Decode_Split_WithMasksLengthsAndBias()
    {
        var c = new AttentionCase(2, 2, 45, 2, 2, 8)
        {
            Causal = true, Left = 30, Pad = DType.Bool, Lengths = [45, 17], Bias = 2, Rel = true, SoftCap = 5f,
            Block = 4, Means = true,
        };
        Assert.True(Plan(c).Splits > 1, $"{c}: {Plan(c)}");
        Check(c);
    }

    [Fact]
    public void Decode_Split_ChunksWithNoVisibleKey_AndEmptyRows()
    {
        // Lengths 0 and 9: every chunk of batch 0 and most of batch 1 see no key; rows of batch 0 are zeros.
        var c = new AttentionCase(2, 1, 40, 2, 2, 8) { Lengths = [0, 9] };
        Assert.True(Plan(c).Splits > 1, $"{c}: {Plan(c)}");
        Check(c);
    }

    [Theory]
    [InlineData(DType.F16)]
    [InlineData(DType.BF16)]
    public void Decode_Split_ReducedPrecision(DType dtype)
    {
        var c = new AttentionCase(1, 1, 50, 4, 2, 8) { DType = dtype, Selected = 29 };
        Assert.True(Plan(c).Splits > 1, $"{c}: {Plan(c)}");
        Check(c);
    }

    [Fact]
    public void Decode_WithExports_DoesNotSplit()
    {
        var c = new AttentionCase(1, 1, 40, 2, 2, 8) { Totals = true, Rows = [0] };
        Assert.Equal(1, Plan(c, exports: true).Splits);
        Check(c);
    }

    [Fact]
    public void Decode_Split_SteadyStateAllocatesNoDeviceMemory()
    {
        var c = new AttentionCase(1, 1, 37, 2, 2, 8);
        c.Run(fixture.Backend);
        long fresh = fixture.Backend.Memory.FreshAllocations;
        c.Run(fixture.Backend);
        Assert.Equal(fresh, fixture.Backend.Memory.FreshAllocations);
    }

    [Fact]
    public void Plan_SplitsOnlyShortQueriesOverLongKeys()
    {
        var policy = fixture.Backend.Policy;
        Assert.Equal(1, policy.AttentionPlanFor(9, 4096, 1, 8, false).Splits);
        Assert.Equal(1, policy.AttentionPlanFor(1, policy.AttentionDecodeMinChunk, 1, 8, false).Splits);
        Assert.Equal(1, policy.AttentionPlanFor(1, 4096, policy.AttentionDecodeTargetGroups, 8, false).Splits);
        var plan = policy.AttentionPlanFor(1, 4096, 1, 8, false);
        Assert.True(plan.Splits > 1 && plan.Splits <= policy.AttentionDecodeTargetGroups, plan.ToString());
        Assert.Equal(0, plan.ChunkSlots % plan.KeyTile);
        Assert.True((long)plan.Splits * plan.ChunkSlots >= 4096 && (long)(plan.Splits - 1) * plan.ChunkSlots < 4096, plan.ToString());
        Assert.Equal(1, plan.QueryBlock);
    }
}
