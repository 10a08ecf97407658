// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.TokenReduction;

using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Testing.Reference.TokenReduction;
using HpcCore.Tests.Backends;
using HpcCore.TokenReduction;
using Xunit;

[Collection(CpuBackendGroup.Name)]
public sealed class AimTests(CpuBackendFixture fixture)
{
    [Fact]
    public void Importance_IsPageRankOfTheSharpenedCausalSoftmax()
    {
        int batch = 2, heads = 2, n = 31;
        var logits = TestData.Normal(batch * heads * n * n, 3);
        for (int r = 0; r < batch * heads; r++)
            for (int i = 0; i < n; i++)
                for (int j = i + 1; j < n; j++) logits[(r * n + i) * n + j] = float.NegativeInfinity;
        using var lt = Tensor.From<float>(logits, new Shape(batch, heads, n, n), fixture.Backend);
        using var imp = Aim.Importance(lt);
        var sharp = logits.Select(v => v / Aim.DefaultTemperature).ToArray();
        var m = Testing.Reference.ReferenceRowOps.Softmax(sharp, batch * heads * n, n).Select(v => (float)v).ToArray();
        for (int b = 0; b < batch; b++)
            TensorAssert.Close(ReferenceSelectors.PageRankRms(m, b, heads, n, Aim.DefaultIterations),
                imp.ToArray<float>().AsSpan(b * n, n), Tolerance.F32Reduction, $"row {b}");
    }

    [Theory]
    [InlineData(40, 1.0)]
    [InlineData(40, 0.5)]
    [InlineData(33, 0.0)]
    [InlineData(129, 0.875)]
    public void Prune_KeepsTextAndTheScheduledShareOfVisualTokens(int n, double retain)
    {
        int batch = 2;
        var score = TestData.Uniform(batch * n, n, 0, 0.5f);
        var text = TestData.Ints(batch * n, n + 1, 4).Select(v => (byte)(v == 0 ? 1 : 0)).ToArray();
        var active = TestData.Ints(batch * n, n + 2, 5).Select(v => (byte)(v == 0 ? 0 : 1)).ToArray();
        using var st = Tensor.From<float>(score, new Shape(batch, n), fixture.Backend);
        using var tt = Tensor.From<byte>(text, new Shape(batch, n), fixture.Backend);
        using var at = Tensor.From<byte>(active, new Shape(batch, n), fixture.Backend);
        using var kept = Aim.Prune(st, tt, at, retain);
        var got = kept.ToArray<byte>();
        for (int b = 0; b < batch; b++)
        {
            var expect = ReferenceSelectors.AimPrune(ReferenceScores.Row(score, b, n),
                text.Skip(b * n).Take(n).Select(v => v != 0).ToArray(), active.Skip(b * n).Take(n).Select(v => v != 0).ToArray(), retain);
            Assert.Equal(expect, got.Skip(b * n).Take(n).Select(v => v != 0));
        }
    }

    [Fact]
    public void RetainSchedule_MatchesTheQwen2Release()
    {
        var s = Aim.RetainSchedule(28, 14, 21);
        Assert.All(s[..14], v => Assert.Equal(1.0, v));
        Assert.Equal(0.875, s[14], 12);
        Assert.Equal(0.125, s[20], 12);
        Assert.All(s[21..], v => Assert.Equal(0.0, v));
        Assert.Throws<ArgumentOutOfRangeException>(() => Aim.RetainSchedule(28, 14, 13));
    }

    [Fact]
    public void MergeVisual_HalvesTwiceWithPlainMeans()
    {
        int n = 64, c = 12;
        var x = TestData.Normal(2 * n * c, 9);
        using var xt = Tensor.From<float>(x, new Shape(2, n, c), fixture.Backend);
        using var merged = Aim.MergeVisual(xt);
        Assert.Equal(new Shape(2, 16, c), merged.Shape);
        // Round by round with the reference (sizes all 1 in every round: AIM's unweighted mean).
        for (int b = 0; b < 2; b++)
        {
            var row = x[(b * n * c)..((b + 1) * n * c)];
            var r1 = ReferenceToMe.Merge(row, n, c, row, c, null, n / 2);
            var x1 = r1.X.Select(v => (float)v).ToArray();
            var r2 = ReferenceToMe.Merge(x1, n / 2, c, x1, c, null, n / 4);
            TensorAssert.Close(r2.X, merged.ToArray<float>().AsSpan(b * 16 * c, 16 * c), Tolerance.F32Reduction, $"row {b}");
        }
    }
}
