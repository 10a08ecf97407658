// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.TokenReduction;

using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Testing.Reference.TokenReduction;
using HpcCore.Tests.Backends;
using HpcCore.TokenReduction;
using Xunit;

[Collection(CpuBackendGroup.Name)]
public sealed class HiPruneTests(CpuBackendFixture fixture)
{
    [Theory]
    [InlineData(576, 24, 64, 0.0, false)]
    [InlineData(576, 24, 192, 0.0, false)]
    [InlineData(576, 24, 192, 0.5, true)]
    [InlineData(576, 24, 128, 1.0, false)]
    [InlineData(35, 7, 3, 1.0, false)]     // anchors + buffers exceed the budget: cut
    [InlineData(35, 7, 0, 0.0, false)]
    [InlineData(35, 5, 35, 0.6, true)]
    public void Select_MatchesReference(int p, int width, int keep, double alpha, bool wrap)
    {
        int batch = 3;
        var obj = TestData.Uniform(batch * p, p + keep, 0, 1);
        var deep = TestData.Ints(batch * p, keep + 1, 50).Select(v => v / 50f).ToArray();   // ties
        using var ot = Tensor.From<float>(obj, new Shape(batch, p), fixture.Backend);
        using var dt = Tensor.From<float>(deep, new Shape(batch, p), fixture.Backend);
        var options = new HiPruneOptions(alpha, wrap);
        using var idx = HiPrune.Select(ot, dt, keep, width, options);
        var got = idx.ToArray<int>();
        double a = alpha == 0 ? HiPruneOptions.DefaultAnchorRatio : alpha;
        for (int b = 0; b < batch; b++)
        {
            var expect = ReferenceSelectors.HiPrune(ReferenceScores.Row(obj, b, p), ReferenceScores.Row(deep, b, p), keep, width, a, wrap);
            TensorAssert.Equal(expect, got.AsSpan(b * keep, keep), $"row {b}");
        }
    }

    [Fact]
    public void RowEndAnchor_GetsNoWrappedBuffer_UnlessAskedFor()
    {
        // One anchor at the end of grid row 0 (index 3 of a 4-wide grid); the deep scores never pick 4.
        var obj = new float[16];
        obj[3] = 1;
        var deep = Enumerable.Range(0, 16).Select(i => i == 4 ? -1f : 0f).ToArray();
        using var ot = Tensor.From<float>(obj, new Shape(1, 16), fixture.Backend);
        using var dt = Tensor.From<float>(deep, new Shape(1, 16), fixture.Backend);
        using var grid = HiPrune.Select(ot, dt, 5, 4, new HiPruneOptions(1.0));
        using var wrapped = HiPrune.Select(ot, dt, 5, 4, new HiPruneOptions(1.0, WrapRows: true));
        Assert.DoesNotContain(4, grid.ToArray<int>());
        Assert.Contains(4, wrapped.ToArray<int>());
        Assert.Equal(1, HiPrune.AnchorCount(64));
        Assert.Equal(4, HiPrune.AnchorCount(192));   // round(3.84)
    }

    [Fact]
    public void BadArguments_Throw()
    {
        using var ot = Tensor.From<float>(new float[12], new Shape(2, 6), fixture.Backend);
        using var dt = Tensor.From<float>(new float[10], new Shape(2, 5), fixture.Backend);
        var shape = Assert.Throws<ArgumentException>(() => HiPrune.Select(ot, dt, 2, 3));
        Assert.Contains("deepScores", shape.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => HiPrune.Select(ot, ot, 7, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => HiPrune.Select(ot, ot, 2, 4));
    }
}
