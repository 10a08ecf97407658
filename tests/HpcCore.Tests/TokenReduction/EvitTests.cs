// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.TokenReduction;

using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Testing.Reference.TokenReduction;
using HpcCore.Tests.Backends;
using HpcCore.TokenReduction;
using Xunit;

[Collection(CpuBackendGroup.Name)]
public sealed class EvitTests(CpuBackendFixture fixture)
{
    public static TheoryData<int, int, EvitFusion> Cases()
    {
        var data = new TheoryData<int, int, EvitFusion>();
        foreach (int n in TestData.OddSizes.Where(v => v > 1))
            foreach (var f in Enum.GetValues<EvitFusion>())
                data.Add(n, Evit.KeepCount(n - 1, 0.7), f);
        data.Add(197, 0, EvitFusion.Sum);
        data.Add(197, 196, EvitFusion.Sum);
        data.Add(1, 0, EvitFusion.Average);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PlanAndApply_MatchReference(int n, int keep, EvitFusion fusion)
    {
        int batch = 2, c = 11, p = n - 1;
        var a = TestData.Uniform(batch * p, n + keep, 0f, 1f);
        var x = TestData.Normal(batch * n * c, n * 3 + keep);
        using var at = Tensor.From<float>(a, new Shape(batch, p), fixture.Backend);
        using var xt = Tensor.From<float>(x, new Shape(batch, n, c), fixture.Backend);
        using var plan = Evit.Plan(at, keep, new EvitOptions(fusion));
        using var y = Evit.Apply(plan, xt);
        var yo = y.ToArray<float>();
        var kept = plan.Kept.ToArray<int>();
        int m = plan.OutputTokens;
        for (int b = 0; b < batch; b++)
        {
            var expect = ReferenceSelectors.Evit(x[(b * n * c)..((b + 1) * n * c)], n, c, ReferenceScores.Row(a, b, p), keep, (int)fusion, out var keptExpect);
            Assert.Equal(expect.Length / c, m);
            TensorAssert.Equal(keptExpect, kept.AsSpan(b * (keep + 1), keep + 1), $"kept row {b}");
            TensorAssert.Close(expect, yo.AsSpan(b * m * c, m * c), Tolerance.F32Reduction, $"tokens row {b}");
        }
    }

    [Fact]
    public void TiedScores_KeepTheLowerPatch()
    {
        using var at = Tensor.From<float>(new float[] { 0.2f, 0.5f, 0.2f, 0.5f, 0.1f }, new Shape(1, 5), fixture.Backend);
        using var plan = Evit.Plan(at, 3);
        Assert.Equal([0, 2, 4, 1], plan.Kept.ToArray<int>());
    }

    [Fact]
    public void DeitSchedule_GivesThePaperTokenCounts()
    {
        // DeiT-S at 224, rho = 0.7 at three blocks, fused token carried as a patch: 197 -> 140 -> 100 -> 72.
        int n = 197;
        foreach (int expect in new[] { 140, 100, 72 })
        {
            n = 1 + Evit.KeepCount(n - 1, 0.7) + 1;
            Assert.Equal(expect, n);
        }
    }

    [Fact]
    public void BadArguments_Throw()
    {
        using var at = Tensor.From<float>(new float[2 * 6], new Shape(2, 6), fixture.Backend);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Evit.Plan(at, 7));
        Assert.Contains("Evit.Plan", ex.Message);
        Assert.Contains("[2, 6]", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Evit.Plan(at, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Evit.KeepCount(10, 0));
        using var plan = Evit.Plan(at, 3);
        using var x = Tensor.From<float>(new float[2 * 6 * 4], new Shape(2, 6, 4), fixture.Backend);
        var shape = Assert.Throws<ArgumentException>(() => Evit.Apply(plan, x));
        Assert.Contains("[2, 6, 4]", shape.Message);
    }
}
