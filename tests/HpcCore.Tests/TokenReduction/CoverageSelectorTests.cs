// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// ToDRE (diversity, relevance) and MMTok (coverage) selections against the references.
namespace HpcCore.Tests.TokenReduction;

using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Testing.Reference.TokenReduction;
using HpcCore.Tests.Backends;
using HpcCore.TokenReduction;
using Xunit;

[Collection(CpuBackendGroup.Name)]
public sealed class CoverageSelectorTests(CpuBackendFixture fixture)
{
    [Theory]
    [InlineData(57, 16, 6, true)]
    [InlineData(33, 20, 33, false)]
    [InlineData(7, 4, 1, true)]
    public void ToDreDiverse_IsGreedyKCenterFromTheMostSalientToken(int p, int c, int keep, bool salient)
    {
        var x = TestData.Normal(2 * p * c, p + keep);
        var s = TestData.Uniform(2 * p, p, 0, 1);
        using var xt = Tensor.From<float>(x, new Shape(2, p, c), fixture.Backend);
        using var st = Tensor.From<float>(s, new Shape(2, p), fixture.Backend);
        using var idx = ToDre.Diverse(xt, keep, salient ? st : null);
        for (int b = 0; b < 2; b++)
        {
            int seed = salient ? ReferenceScores.Top(ReferenceScores.Row(s, b, p), 1)[0] : 0;
            TensorAssert.Equal(ReferenceSelectors.FarthestPoint(x, b, p, c, keep, seed), idx.ToArray<int>().AsSpan(b * keep, keep), $"row {b}");
        }
    }

    [Fact]
    public void ToDreRelevance_AveragesTextRowsAndHeads()
    {
        int batch = 2, heads = 3, t = 5, v = 24;
        var a = TestData.Uniform(batch * heads * t * v, 4, 0, 1);
        using var at = Tensor.From<float>(a, new Shape(batch, heads, t, v), fixture.Backend);
        using var rel = ToDre.Relevance(at);
        using var kept = ToDre.SelectRelevant(rel, 6);
        var r = rel.ToArray<float>();
        for (int b = 0; b < batch; b++)
        {
            var expect = new double[v];
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < t; i++)
                    for (int j = 0; j < v; j++) expect[j] += a[((b * heads + h) * t + i) * v + j] / (heads * (double)t);
            TensorAssert.Close(expect, r.AsSpan(b * v, v), Tolerance.F32Reduction, $"relevance {b}");
            TensorAssert.Equal(ReferenceSelectors.TopAscending(ReferenceScores.Row(r, b, v), 6), kept.ToArray<int>().AsSpan(b * 6, 6), $"kept {b}");
        }
    }

    [Theory]
    [InlineData(6, 40, 8, 1f)]
    [InlineData(3, 31, 31, 0.5f)]
    [InlineData(1, 7, 0, 2f)]
    public void MmTok_IsGreedyWeightedCoverage(int t, int v, int keep, float lambda)
    {
        int batch = 2, c = 12;
        using var text = Tensor.From<float>(TestData.Normal(batch * t * c, t), new Shape(batch, t, c), fixture.Backend);
        using var vis = Tensor.From<float>(TestData.Normal(batch * v * c, v), new Shape(batch, v, c), fixture.Backend);
        using var tv = Similarity.Cosine(text, vis);
        using var vv = Similarity.Cosine(vis, vis);
        using var idx = MmTok.Select(tv, vv, keep, lambda);
        var tvs = tv.ToArray<float>();
        var vvs = vv.ToArray<float>();
        for (int b = 0; b < batch; b++)
        {
            var s = new double[t + v, v];
            for (int i = 0; i < t; i++)
                for (int j = 0; j < v; j++) s[i, j] = tvs[(b * t + i) * v + j];
            for (int i = 0; i < v; i++)
                for (int j = 0; j < v; j++) s[t + i, j] = vvs[(b * v + i) * v + j];
            var w = Enumerable.Range(0, t + v).Select(i => i < t ? 1.0 : lambda).ToArray();
            TensorAssert.Equal(ReferenceSelectors.Coverage(s, w, keep), idx.ToArray<int>().AsSpan(b * keep, keep), $"row {b}");
        }
    }

    [Fact]
    public void BadArguments_Throw()
    {
        using var tv = Tensor.From<float>(new float[2 * 3 * 5], new Shape(2, 3, 5), fixture.Backend);
        using var vv = Tensor.From<float>(new float[2 * 4 * 4], new Shape(2, 4, 4), fixture.Backend);
        var ex = Assert.Throws<ArgumentException>(() => MmTok.Select(tv, vv, 2));
        Assert.Contains("[B, V, V]", ex.Message);
        using var x = Tensor.From<float>(new float[2 * 5 * 3], new Shape(2, 5, 3), fixture.Backend);
        Assert.Throws<ArgumentOutOfRangeException>(() => ToDre.Diverse(x, 6));
    }
}
