// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.TokenReduction;

using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Testing.Reference.TokenReduction;
using HpcCore.Tests.Backends;
using HpcCore.TokenReduction;
using Xunit;

[Collection(CpuBackendGroup.Name)]
public sealed class FoPruTests(CpuBackendFixture fixture)
{
    [Theory]
    [InlineData(576, 24, 64)]
    [InlineData(576, 24, 192)]
    [InlineData(35, 7, 0)]
    [InlineData(35, 7, 35)]
    [InlineData(35, 5, 13)]
    [InlineData(7, 1, 3)]
    public void RowAndRank_MatchReference(int p, int width, int keep)
    {
        var s = TestData.Ints(3 * p, p + keep, 12).Select(v => v / 8f).ToArray();   // ties in tokens and rows, exact sums
        using var st = Tensor.From<float>(s, new Shape(3, p), fixture.Backend);
        using var rows = FoPru.Select(st, keep, width, FoPruStrategy.Row);
        using var rank = FoPru.Select(st, keep, width);
        for (int b = 0; b < 3; b++)
        {
            var row = ReferenceScores.Row(s, b, p);
            TensorAssert.Equal(ReferenceSelectors.FoPruRows(row, keep, width), rows.ToArray<int>().AsSpan(b * keep, keep), $"row strategy {b}");
            TensorAssert.Equal(ReferenceSelectors.TopAscending(row, keep), rank.ToArray<int>().AsSpan(b * keep, keep), $"rank strategy {b}");
        }
    }

    [Fact]
    public void BadArguments_Throw()
    {
        using var st = Tensor.From<float>(new float[12], new Shape(2, 6), fixture.Backend);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => FoPru.Select(st, 7, 3));
        Assert.Contains("FoPru.Select", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => FoPru.Select(st, 2, 4, FoPruStrategy.Row));
    }
}
