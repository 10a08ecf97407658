// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.TokenReduction;

using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Testing.Reference.TokenReduction;
using HpcCore.Tests.Backends;
using HpcCore.TokenReduction;
using Xunit;

[Collection(CpuBackendGroup.Name)]
public sealed class ToMeTests(CpuBackendFixture fixture)
{
    public static TheoryData<int, int, bool, bool, bool> Cases()
    {
        var data = new TheoryData<int, int, bool, bool, bool>();
        foreach (int n in TestData.OddSizes)
        {
            data.Add(n, n / 4, false, false, false);
            data.Add(n, n / 3, true, false, false);
            data.Add(n, n, true, false, true);        // r beyond the limit: clamped
        }
        data.Add(198, 50, true, true, false);
        data.Add(198, 0, true, true, false);
        data.Add(64, 32, false, false, true);
        data.Add(4, 1, true, true, true);
        data.Add(3, 1, false, true, false);         // the only B token is protected: nothing can merge
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PlanAndMerge_MatchReference(int n, int r, bool cls, bool distill, bool preserve)
    {
        int batch = 3, d = 17, c = 9;
        var metric = TestData.Normal(batch * n * d, n * 31 + r);
        var x = TestData.Normal(batch * n * c, n * 37 + r);
        var size = TestData.Ints(batch * n, n + r, 4).Select(v => (float)(v + 1)).ToArray();
        var options = new ToMeOptions(cls, distill, preserve);
        using var m = Tensor.From<float>(metric, new Shape(batch, n, d), fixture.Backend);
        using var xt = Tensor.From<float>(x, new Shape(batch, n, c), fixture.Backend);
        using var st = Tensor.From<float>(size, new Shape(batch, n), fixture.Backend);

        using var plan = ToMe.Plan(m, r, options);
        var (merged, newSize) = ToMe.Merge(plan, xt, st);
        using (merged)
        using (newSize)
        {
            var map = plan.TokenMap.ToArray<int>();
            var src = plan.Sources.ToArray<int>();
            var dst = plan.Destinations.ToArray<int>();
            var xo = merged.ToArray<float>();
            var so = newSize.ToArray<float>();
            for (int b = 0; b < batch; b++)
            {
                var expect = ReferenceToMe.Merge(metric[(b * n * d)..((b + 1) * n * d)], n, d, x[(b * n * c)..((b + 1) * n * c)], c,
                    size[(b * n)..((b + 1) * n)], r, cls, distill, preserve);
                Assert.Equal(expect.R, plan.R);
                Assert.Equal(r, plan.RequestedR);
                Assert.Equal(n - expect.R, plan.OutputTokens);
                TensorAssert.Equal(expect.Map, map.AsSpan(b * n, n), $"map row {b}");
                TensorAssert.Equal(expect.Src, src.AsSpan(b * plan.R, plan.R), $"src row {b}");
                TensorAssert.Equal(expect.Dst, dst.AsSpan(b * plan.R, plan.R), $"dst row {b}");
                int mm = n - plan.R;
                TensorAssert.Close(expect.X, xo.AsSpan(b * mm * c, mm * c), Tolerance.F32Reduction, $"merged row {b}");
                TensorAssert.Close(expect.Size, so.AsSpan(b * mm, mm), Tolerance.F32Elementwise, $"sizes row {b}");
            }
        }
    }

    [Fact]
    public void Ties_GoToTheLowerIndex()
    {
        // Every token identical: all A tokens tie on score and all B tokens tie as partners.
        int n = 31, d = 4;
        var metric = Enumerable.Repeat(0.5f, n * d).ToArray();
        using var m = Tensor.From<float>(metric, new Shape(1, n, d), fixture.Backend);
        using var plan = ToMe.Plan(m, 5);
        var expect = ReferenceToMe.Merge(metric, n, d, new float[n], 1, null, 5);
        Assert.Equal([0, 2, 4, 6, 8], plan.Sources.ToArray<int>());
        Assert.Equal(Enumerable.Repeat(1, 5), plan.Destinations.ToArray<int>());
        TensorAssert.Equal(expect.Map, plan.TokenMap.ToArray<int>(), "tied map");
    }

    [Fact]
    public void RowsOfABatch_AreMatchedIndependently()
    {
        int n = 33, d = 8;
        var row = TestData.Normal(n * d, 5);
        var other = TestData.Normal(n * d, 6);
        using var both = Tensor.From<float>([.. row, .. other], new Shape(2, n, d), fixture.Backend);
        using var alone = Tensor.From<float>(other, new Shape(1, n, d), fixture.Backend);
        using var p2 = ToMe.Plan(both, 9, new ToMeOptions(ClassToken: true));
        using var p1 = ToMe.Plan(alone, 9, new ToMeOptions(ClassToken: true));
        Assert.Equal(p1.TokenMap.ToArray<int>(), p2.TokenMap.ToArray<int>()[n..]);
        Assert.NotEqual(p2.TokenMap.ToArray<int>()[..n], p2.TokenMap.ToArray<int>()[n..]);
    }

    [Fact]
    public void AllProtected_MergesNothing()
    {
        using var m = Tensor.From<float>(TestData.Normal(2 * 2 * 3, 1), new Shape(2, 2, 3), fixture.Backend);
        using var plan = ToMe.Plan(m, 5, new ToMeOptions(ClassToken: true, DistillationToken: true));
        Assert.Equal(0, plan.R);
        Assert.Equal([0, 1, 0, 1], plan.TokenMap.ToArray<int>());
    }

    [Fact]
    public void Unmerge_CopiesEachOutputBackToItsSources()
    {
        int n = 129, c = 5;
        using var m = Tensor.From<float>(TestData.Normal(2 * n * 16, 3), new Shape(2, n, 16), fixture.Backend);
        using var x = Tensor.From<float>(TestData.Normal(2 * n * c, 4), new Shape(2, n, c), fixture.Backend);
        using var plan = ToMe.Plan(m, 40, new ToMeOptions(ClassToken: true));
        var (merged, size) = ToMe.Merge(plan, x, null);
        using (merged)
        using (size)
        using (var back = ToMe.Unmerge(plan, merged))
        {
            var map = plan.TokenMap.ToArray<int>();
            var mo = merged.ToArray<float>();
            var bo = back.ToArray<float>();
            Assert.Equal(2 * n * c, bo.Length);
            for (int b = 0; b < 2; b++)
                for (int t = 0; t < n; t++)
                    for (int k = 0; k < c; k++)
                        Assert.Equal(mo[(b * plan.OutputTokens + map[b * n + t]) * c + k], bo[(b * n + t) * c + k]);
        }
    }

    [Fact]
    public void TrackSources_ComposesPlansAcrossLayers()
    {
        int n = 65;
        using var m1 = Tensor.From<float>(TestData.Normal(n * 8, 7), new Shape(1, n, 8), fixture.Backend);
        using var p1 = ToMe.Plan(m1, 16, new ToMeOptions(ClassToken: true));
        using var m2 = Tensor.From<float>(TestData.Normal(p1.OutputTokens * 8, 8), new Shape(1, p1.OutputTokens, 8), fixture.Backend);
        using var p2 = ToMe.Plan(m2, 10, new ToMeOptions(ClassToken: true));
        using var s1 = ToMe.TrackSources(p1, null);
        using var s2 = ToMe.TrackSources(p2, s1);
        var map1 = p1.TokenMap.ToArray<int>();
        var map2 = p2.TokenMap.ToArray<int>();
        Assert.Equal(map1.Select(t => map2[t]), s2.ToArray<int>());
        Assert.Equal(0, s2.ToArray<int>()[0]);   // [CLS] stays first and alone
        Assert.Equal(1, s2.ToArray<int>().Count(o => o == 0));
    }

    [Fact]
    public void LogSize_IsTheProportionalAttentionBias()
    {
        var size = new float[] { 1, 2, 3, 7, 1, 4 };
        using var s = Tensor.From<float>(size, new Shape(2, 3), fixture.Backend);
        using var bias = ToMe.LogSize(s);
        TensorAssert.Close(size.Select(v => Math.Log(v)).ToArray(), bias.ToArray<float>(), Tolerance.F32Activation, "log size");
    }

    [Fact]
    public void KeyMetric_IsTheMeanOverKvHeads()
    {
        int b = 2, t = 7, h = 3, dh = 5;
        var k = TestData.Normal(b * t * h * dh, 9);
        using var keys = Tensor.From<float>(k, new Shape(b, t, h, dh), fixture.Backend);
        using var metric = ToMe.KeyMetric(keys);
        var expect = new double[b * t * dh];
        for (int i = 0; i < b * t; i++)
            for (int j = 0; j < h; j++)
                for (int e = 0; e < dh; e++) expect[i * dh + e] += k[(i * h + j) * dh + e] / (double)h;
        Assert.Equal(new Shape(b, t, dh), metric.Shape);
        TensorAssert.Close(expect, metric.ToArray<float>(), Tolerance.F32Reduction, "key means");
    }

    [Fact]
    public void Schedules_FollowToMe()
    {
        Assert.Equal(Enumerable.Repeat(8, 12), MergeSchedule.Constant(12, 8));
        var dec = MergeSchedule.Decreasing(12, 8);
        Assert.Equal(16, dec[0]);
        Assert.Equal(0, dec[^1]);
        Assert.True(dec.Zip(dec.Skip(1)).All(p => p.First >= p.Second));
        // ViT-B at 224 with r = 16 in 12 layers: 197 -> 5 tokens, clamped per layer at (N - 1) / 2.
        var counts = MergeSchedule.TokenCounts(197, MergeSchedule.Constant(12, 16), new ToMeOptions(ClassToken: true));
        Assert.Equal(181, counts[0]);
        Assert.Equal(counts[^2] - ToMe.EffectiveR(counts[^2], 16, new ToMeOptions(ClassToken: true)), counts[^1]);
        Assert.Equal([2, 2], MergeSchedule.TokenCounts(3, [5, 5], new ToMeOptions(ClassToken: true)));   // (2 - 1) / 2 = 0
    }

    [Fact]
    public void BadArguments_Throw()
    {
        using var m = Tensor.From<float>(new float[2 * 5 * 3], new Shape(2, 5, 3), fixture.Backend);
        using var flat = Tensor.From<float>(new float[15], new Shape(5, 3), fixture.Backend);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ToMe.Plan(m, -1));
        Assert.Contains("ToMe.Plan", ex.Message);
        Assert.Contains("r", ex.ParamName);
        var shape = Assert.Throws<ArgumentException>(() => ToMe.Plan(flat, 1));
        Assert.Contains("[B, N, d]", shape.Message);
        using var plan = ToMe.Plan(m, 2);
        using var wrong = Tensor.From<float>(new float[2 * 6 * 4], new Shape(2, 6, 4), fixture.Backend);
        var merge = Assert.Throws<ArgumentException>(() => ToMe.Merge(plan, wrong, null));
        Assert.Contains("ToMe.Merge", merge.Message);
        Assert.Contains("[2, 6, 4]", merge.Message);
        using var one = Tensor.From<float>(new float[3], new Shape(1, 1, 3), fixture.Backend);
        Assert.Throws<ArgumentException>(() => ToMe.Plan(one, 0, new ToMeOptions(DistillationToken: true)));
        Assert.Throws<ArgumentOutOfRangeException>(() => MergeSchedule.Linear(0, 4, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MergeSchedule.Linear(4, 4, 2));
    }
}
