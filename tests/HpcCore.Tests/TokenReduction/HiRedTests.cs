// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.TokenReduction;

using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Testing.Reference.TokenReduction;
using HpcCore.Tests.Backends;
using HpcCore.TokenReduction;
using Xunit;

[Collection(CpuBackendGroup.Name)]
public sealed class HiRedTests(CpuBackendFixture fixture)
{
    [Theory]
    [InlineData(5, 576, 0.0, 0.0, 0, 0, false)]     // LLaVA-NeXT 2x2: released defaults, 2-D regions
    [InlineData(5, 576, 0.0, 0.0, 0, 0, true)]      // the released code's band split
    [InlineData(7, 576, 0.3, 0.4, 2, 3, false)]
    [InlineData(7, 576, 0.3, 0.4, 3, 2, true)]
    [InlineData(1, 49, 0.5, 0.0, 0, 0, false)]      // thumbnail only
    [InlineData(5, 49, 1.0, 1.0, 0, 0, false)]      // whole budget to the thumbnail
    public void Select_MatchesReference(int parts, int p, double rate, double alpha, int rows, int cols, bool bands)
    {
        var initial = TestData.Uniform(parts * p, parts + p, 0, 1);
        var final = TestData.Ints(parts * p, p, 40).Select(v => v / 40f).ToArray();
        using var it = Tensor.From<float>(initial, new Shape(parts, p), fixture.Backend);
        using var ft = Tensor.From<float>(final, new Shape(parts, p), fixture.Backend);
        var options = new HiRedOptions(rate, alpha, rows, cols, bands);
        var (indices, counts) = HiRed.Select(it, ft, options);
        using (indices)
        using (counts)
        {
            int side = (int)Math.Round(Math.Sqrt(parts - 1));
            var expect = ReferenceSelectors.HiRed(
                Enumerable.Range(0, parts).Select(i => ReferenceScores.Row(initial, i, p)).ToArray(),
                Enumerable.Range(0, parts).Select(i => ReferenceScores.Row(final, i, p)).ToArray(),
                rate == 0 ? 0.2 : rate, alpha == 0 ? 0.5 : alpha, rows == 0 ? side : rows, cols == 0 ? side : cols, bands);
            var got = indices.ToArray<int>();
            var n = counts.ToArray<int>();
            for (int i = 0; i < parts; i++)
            {
                Assert.Equal(expect[i].Length, n[i]);
                TensorAssert.Equal(expect[i], got.AsSpan(i * p, n[i]), $"partition {i}");
                Assert.All(got.AsSpan(i * p + n[i], p - n[i]).ToArray(), v => Assert.Equal(-1, v));
            }
        }
    }

    [Fact]
    public void BandsAndBlocks_DifferWhereTheThumbnailsAttentionIsNotInBands()
    {
        // Thumbnail attention concentrated in the left half of a 4x4 grid; 2x2 crops. Budget 40 = 16 (thumbnail) + 24.
        // Blocks give the 8 located tokens to crops 0 and 2 (left column): 12 each; bands (row-major chunks of 4
        // tokens = grid rows) give 2 to every crop: 6 each.
        var initial = new float[5 * 16];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 2; j++) initial[i * 4 + j] = 1;
        var final = TestData.Uniform(5 * 16, 3, 0, 1);
        using var it = Tensor.From<float>(initial, new Shape(5, 16), fixture.Backend);
        using var ft = Tensor.From<float>(final, new Shape(5, 16), fixture.Backend);
        var options = new HiRedOptions(0.5, 0.5);
        var (bi, bc) = HiRed.Select(it, ft, options);
        var (ni, nc) = HiRed.Select(it, ft, options with { BandSplit = true });
        using (bi) using (bc) using (ni) using (nc)
        {
            Assert.Equal([16, 12, 0, 12, 0], bc.ToArray<int>());
            Assert.Equal([16, 6, 6, 6, 6], nc.ToArray<int>());
        }
    }

    [Fact]
    public void BadArguments_Throw()
    {
        using var it = Tensor.From<float>(new float[4 * 16], new Shape(4, 16), fixture.Backend);
        var grid = Assert.Throws<ArgumentException>(() => HiRed.Select(it, it));
        Assert.Contains("HiRed.Select", grid.Message);
        Assert.Throws<ArgumentException>(() => HiRed.Select(it, it, new HiRedOptions(CropRows: 2, CropColumns: 2)));
        using var odd = Tensor.From<float>(new float[2 * 15], new Shape(2, 15), fixture.Backend);
        Assert.Throws<ArgumentException>(() => HiRed.Select(odd, odd));
        using var five = Tensor.From<float>(new float[5 * 16], new Shape(5, 16), fixture.Backend);
        Assert.Throws<ArgumentOutOfRangeException>(() => HiRed.Select(five, five, new HiRedOptions(BudgetRate: 1.5)));
    }
}
