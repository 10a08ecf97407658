// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.TokenReduction;

using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Testing.Reference.TokenReduction;
using HpcCore.Tests.Backends;
using HpcCore.TokenReduction;
using Xunit;

[Collection(CpuBackendGroup.Name)]
public sealed class VtcClsTests(CpuBackendFixture fixture)
{
    [Theory]
    [InlineData(576, 64)]
    [InlineData(576, 192)]
    [InlineData(197, 0)]
    [InlineData(33, 33)]
    [InlineData(7, 3)]
    public void Select_IsTopKInSpatialOrder(int p, int keep)
    {
        // Quantised scores: many ties, which must go to the lower patch.
        var s = TestData.Ints(3 * p, p + keep, 9).Select(v => v / 8f).ToArray();
        using var st = Tensor.From<float>(s, new Shape(3, p), fixture.Backend);
        using var idx = VtcCls.Select(st, keep);
        Assert.Equal(new Shape(3, keep), idx.Shape);
        var got = idx.ToArray<int>();
        for (int b = 0; b < 3; b++)
            TensorAssert.Equal(ReferenceSelectors.TopAscending(ReferenceScores.Row(s, b, p), keep), got.AsSpan(b * keep, keep), $"row {b}");
    }

    [Fact]
    public void BadKeep_Throws()
    {
        using var st = Tensor.From<float>(new float[10], new Shape(2, 5), fixture.Backend);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => VtcCls.Select(st, 6));
        Assert.Contains("VtcCls.Select", ex.Message);
        Assert.Contains("[2, 5]", ex.Message);
    }
}
