// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.KvCache;

using HpcCore.Models.KvCache;
using HpcCore.Testing;
using Xunit;

/// <summary>Each policy's decision rule against a plain re-statement of the paper's rule.</summary>
public sealed class KvPolicyDecisionTests
{
    public static TheoryData<int, int> Sizes => new() { { 1, 1 }, { 7, 4 }, { 31, 8 }, { 33, 33 }, { 127, 20 }, { 129, 64 }, { 197, 50 } };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void StreamingLlm_KeepsSinksAndRecent(int count, int budget)
    {
        int sinks = Math.Min(4, budget - 1);
        var keep = new int[count];
        int n = StreamingLlmKvPolicy.Decide(count, sinks, budget, keep);
        var expected = Enumerable.Range(0, count).Where(i => count <= budget || i < sinks || i >= count - (budget - sinks)).ToArray();
        Assert.Equal(expected, keep[..n]);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void H2O_KeepsRecentPlusHeavyHitters(int count, int budget)
    {
        var s = TestData.Uniform(count, count);
        for (int i = 0; i < count; i += 3) s[i] = 0.25f; // ties
        int recent = budget / 2;
        var keep = new int[count];
        int n = H2OKvPolicy.Decide(s, budget, recent, keep);
        int[] expected = count <= budget
            ? Enumerable.Range(0, count).ToArray()
            : KvTopKTests.Reference(s, 0, count - recent, budget - recent).Concat(Enumerable.Range(count - recent, recent)).ToArray();
        Assert.Equal(expected, keep[..n]);
    }

    public static TheoryData<int, int, SnapKvPooling> PooledSizes()
    {
        var data = new TheoryData<int, int, SnapKvPooling>();
        foreach (var row in Sizes)
            foreach (var pooling in new[] { SnapKvPooling.Average, SnapKvPooling.Max })
                data.Add((int)row[0], (int)row[1], pooling);
        return data;
    }

    [Theory]
    [MemberData(nameof(PooledSizes))]
    public void SnapKv_PoolsWindowVotesThenKeepsTopPrefixAndWindow(int count, int budget, SnapKvPooling pooling)
    {
        var votes = TestData.Uniform(count, count + 1, 0f, 1f);
        int window = Math.Max(1, budget / 3), kernel = 5;
        var keep = new int[count];
        int n = SnapKvPolicy.Decide(votes, budget, window, kernel, pooling, new float[count], keep);
        int[] expected;
        if (count <= budget) expected = Enumerable.Range(0, count).ToArray();
        else
        {
            int prefix = count - window;
            var pooled = new float[prefix];
            // avg_pool1d(kernel 5, padding 2, count_include_pad): zeros outside the prefix count in the mean.
            for (int i = 0; i < prefix; i++)
            {
                var inside = Enumerable.Range(i - 2, 5).Where(j => j >= 0 && j < prefix);
                pooled[i] = pooling == SnapKvPooling.Max ? inside.Max(j => votes[j]) : (float)(inside.Sum(j => (double)votes[j]) / 5);
            }
            expected = KvTopKTests.Reference(pooled, 0, prefix, budget - window).Concat(Enumerable.Range(prefix, window)).ToArray();
        }
        Assert.Equal(expected, keep[..n]);
    }

    [Theory]
    [InlineData(1, 1, 1, 0, 1)]
    [InlineData(4, 2, 8, 3, 36)]
    [InlineData(8, 4, 16, 5, 134)]
    public void TokenSelect_CandidateSoftmax_IsPerHeadSoftmaxOfRawDots(int heads, int kvHeads, int d, int lo, int hi)
    {
        // The vote's per-head softmax comes from the paged op (scale 1, probability export over the candidates).
        using var cpu = new HpcCore.Cpu.CpuBackend(threads: 1);
        int count = hi + 3, group = heads / kvHeads;
        using var cache = new PagedKvCache(cpu, new KvCacheLayout(2, kvHeads, d, count, PageTokens: 5));
        var keys = TestData.Uniform(count * kvHeads * d, 40 + d, -1f, 1f);
        using (var k = HpcCore.Tensors.Tensor.From<float>(keys, new HpcCore.Tensors.Shape(count * kvHeads, d), cpu))
            cache.Append(0, 1, k, k, count, 0);
        var q = TestData.Uniform(heads * d, 41 + d, -2f, 2f);
        int n = hi - lo;
        var probabilities = new float[heads * n];
        cache.Sequence(0).CandidateSoftmax(1, q, lo, hi, probabilities);
        for (int h = 0; h < heads; h++)
        {
            var dots = Enumerable.Range(lo, n).Select(j => Enumerable.Range(0, d).Sum(i => (double)q[h * d + i] * keys[(j * kvHeads + h / group) * d + i])).ToArray();
            double max = dots.Max(), sum = dots.Sum(x => Math.Exp(x - max));
            for (int j = 0; j < n; j++) Assert.Equal(Math.Exp(dots[j] - max) / sum, probabilities[h * n + j], 5);
        }
    }

    [Theory]
    [InlineData(10, 10, 4f, 2, 2)]
    [InlineData(100, 100, 4f, 8, 4)]
    [InlineData(40, 200, 8f, 4, 4)]
    [InlineData(7, 7, 2f, 16, 4)]
    public void Razor_KeepsSinksAndBufferOfSeenOverRatio(int count, int seen, float ratio, int floor, int sinks)
    {
        var keep = new int[count];
        int n = RazorAttentionKvPolicy.Decide(count, seen, ratio, floor, sinks, keep);
        int buffer = Math.Max(floor, (int)(seen / ratio));
        var expected = Enumerable.Range(0, count).Where(i => count <= sinks + buffer || i < sinks || i >= count - buffer).ToArray();
        Assert.Equal(expected, keep[..n]);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(129)]
    public void Ems_ScoreIsNormalisedGlobalPlusLocal(int n)
    {
        var acc = TestData.Uniform(n, 1, 0f, 3f);
        var seen = TestData.Ints(n, 2, 9).Select(x => (float)x).ToArray();
        var local = TestData.Uniform(n, 3, 0f, 1f);
        var score = new float[n];
        EmsKvPolicy.Score(acc, seen, local, score);
        var g = Enumerable.Range(0, n).Select(j => acc[j] / (double)Math.Max(1, seen[j])).ToArray();
        double gm = g.Max(), lm = local.Max();
        for (int j = 0; j < n; j++) Assert.Equal(g[j] / gm + local[j] / lm, score[j], 5);
        var keep = new int[n];
        int budget = Math.Max(3, n / 3), sinks = 1, recent = 1;
        int k = EmsKvPolicy.Decide(score, budget, sinks, recent, keep);
        var expected = KvTopKTests.Reference(score, sinks, n - recent, budget - 2).Prepend(0).Append(n - 1).ToArray();
        Assert.Equal(expected, keep[..k]);
    }

    [Fact]
    public void Recycled_PicksTopMass()
    {
        var mass = TestData.Uniform(50, 9, 0f, 1f);
        var keep = new int[10];
        int n = RecycledKvPolicy.Decide(mass, 10, keep);
        Assert.Equal(KvTopKTests.Reference(mass, 0, 50, 10), keep[..n]);
    }
}
