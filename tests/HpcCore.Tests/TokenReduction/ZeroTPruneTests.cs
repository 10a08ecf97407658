// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.TokenReduction;

using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Testing.Reference.TokenReduction;
using HpcCore.Tests.Backends;
using HpcCore.TokenReduction;
using Xunit;

[Collection(CpuBackendGroup.Name)]
public sealed class ZeroTPruneTests(CpuBackendFixture fixture)
{
    internal static float[] RowStochastic(int rows, int n, int seed)
    {
        var a = TestData.Uniform(rows * n, seed, 0, 1);
        for (int i = 0; i < rows; i++)
        {
            float s = 0;
            for (int j = 0; j < n; j++) s += a[i * n + j];
            for (int j = 0; j < n; j++) a[i * n + j] /= s;
        }
        return a;
    }

    [Theory]
    [InlineData(33, 8, 5, true, false)]
    [InlineData(33, 8, 5, true, true)]
    [InlineData(197, 40, 30, true, false)]
    [InlineData(31, 0, 15, false, true)]
    [InlineData(31, 0, 15, false, false)]
    [InlineData(7, 6, 0, true, false)]
    [InlineData(1, 0, 0, true, true)]
    public void ImportanceAndSelect_MatchReference(int n, int rI, int rS, bool cls, bool alternate)
    {
        int batch = 2, heads = 3, d = 8;
        var probs = RowStochastic(batch * heads * n, n, n + rI);
        var keys = TestData.Normal(batch * n * d, n * 7 + rS);
        using var pt = Tensor.From<float>(probs, new Shape(batch, heads, n, n), fixture.Backend);
        using var kt = Tensor.From<float>(keys, new Shape(batch, n, d), fixture.Backend);
        using var importance = ZeroTPrune.Importance(pt);
        var imp = importance.ToArray<float>();
        using var kept = ZeroTPrune.Select(importance, kt, rI, rS, cls, alternate ? ZeroTPrunePartition.Alternate : ZeroTPrunePartition.Sequential);
        int keep = n - rI - rS;
        Assert.Equal(new Shape(batch, keep), kept.Shape);
        var got = kept.ToArray<int>();
        for (int b = 0; b < batch; b++)
        {
            TensorAssert.Close(ReferenceSelectors.PageRankRms(probs, b, heads, n, ZeroTPrune.DefaultIterations),
                imp.AsSpan(b * n, n), Tolerance.F32Reduction, $"importance row {b}");
            // Selection from the same importance values, so float rounding cannot reorder near-ties.
            var expect = ReferenceSelectors.ZeroTPrune(ReferenceScores.Row(imp, b, n), keys, b, n, d, rI, rS, cls, alternate);
            TensorAssert.Equal(expect, got.AsSpan(b * keep, keep), $"kept row {b}");
            if (cls && keep > 0) Assert.Equal(0, got[b * keep]);
        }
    }

    [Fact]
    public void BadArguments_Throw()
    {
        using var imp = Tensor.From<float>(new float[2 * 9], new Shape(2, 9), fixture.Backend);
        using var keys = Tensor.From<float>(new float[2 * 9 * 4], new Shape(2, 9, 4), fixture.Backend);
        using var wrong = Tensor.From<float>(new float[2 * 8 * 4], new Shape(2, 8, 4), fixture.Backend);
        Assert.Throws<ArgumentOutOfRangeException>(() => ZeroTPrune.Select(imp, keys, 9, 0, classToken: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => ZeroTPrune.Select(imp, keys, 2, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => ZeroTPrune.Select(imp, keys, -1, 0));
        var ex = Assert.Throws<ArgumentException>(() => ZeroTPrune.Select(imp, wrong, 1, 1));
        Assert.Contains("[2, 8, 4]", ex.Message);
    }
}
