// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Lm;

using HpcCore.Models.Lm.Sampling;
using HpcCore.Testing;
using Xunit;

/// <summary>Sampling rules: greedy ties, truncation sets, seeded reproducibility, and frequencies vs the softmax.</summary>
public sealed class TokenSamplerTests
{
    [Fact]
    public void Greedy_TakesLowestIndexAmongTies()
    {
        float[] logits = [0.5f, 2f, -1f, 2f];
        Assert.Equal(1, new TokenSampler(4, default).Sample(logits));
    }

    [Fact]
    public void TopK1_And_TinyTopP_AreGreedy()
    {
        var logits = TestData.Uniform(97, 3, -3f, 3f);
        int argmax = TokenSampler.Argmax(logits);
        var k1 = new TokenSampler(97, new SamplerOptions(Temperature: 1.5f, TopK: 1, Seed: 9));
        var p0 = new TokenSampler(97, new SamplerOptions(Temperature: 1.5f, TopP: 1e-6f, Seed: 9));
        for (int i = 0; i < 50; i++)
        {
            Assert.Equal(argmax, k1.Sample(logits));
            Assert.Equal(argmax, p0.Sample(logits));
        }
    }

    [Fact]
    public void SameSeed_SameTokens_DifferentSeed_Differs()
    {
        var logits = TestData.Uniform(64, 5, -1f, 1f);
        int[] Draw(ulong seed)
        {
            var s = new TokenSampler(64, new SamplerOptions(Temperature: 1f, Seed: seed));
            return Enumerable.Range(0, 40).Select(_ => s.Sample(logits)).ToArray();
        }
        Assert.Equal(Draw(7), Draw(7));
        Assert.NotEqual(Draw(7), Draw(8));
    }

    [Fact]
    public void Frequencies_FollowTruncatedTemperedSoftmax()
    {
        float[] logits = [2f, 1f, 0.5f, 0f, -1f, -3f];
        const float temperature = 0.7f;
        const int topK = 4, draws = 40000;
        var s = new TokenSampler(logits.Length, new SamplerOptions(temperature, topK, Seed: 3));
        var counts = new int[logits.Length];
        for (int i = 0; i < draws; i++) counts[s.Sample(logits)]++;
        double z = logits.Take(topK).Sum(l => Math.Exp(l / temperature));
        for (int i = 0; i < logits.Length; i++)
        {
            double expected = i < topK ? Math.Exp(logits[i] / temperature) / z : 0;
            Assert.InRange(counts[i] / (double)draws, expected - 0.01, expected + 0.01);
        }
    }

    [Fact]
    public void TopP_KeepsSmallestSetReachingTheMass()
    {
        // Probabilities 0.5, 0.3, 0.2 at temperature 1: top-p 0.7 keeps the first two only.
        float[] logits = [MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.2f)];
        var s = new TokenSampler(3, new SamplerOptions(1f, TopP: 0.7f, Seed: 11));
        var counts = new int[3];
        for (int i = 0; i < 20000; i++) counts[s.Sample(logits)]++;
        Assert.Equal(0, counts[2]);
        Assert.InRange(counts[0] / 20000.0, 0.625 - 0.015, 0.625 + 0.015);
    }

    [Fact]
    public void BadOptions_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenSampler(4, new SamplerOptions(Temperature: -1f)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenSampler(4, new SamplerOptions(TopK: -2)));
        Assert.Throws<ArgumentException>(() => new TokenSampler(4, default).Sample(new float[5]));
    }
}
