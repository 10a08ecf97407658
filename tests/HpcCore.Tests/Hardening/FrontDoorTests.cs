// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Issue #21, front doors: constructors and ops refuse bad arguments by name, before any state changes.
namespace HpcCore.Tests.Hardening;

using HpcCore.Cpu;
using HpcCore.Models.KvCache;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.TokenReduction;
using Xunit;

public sealed class FrontDoorTests : IDisposable
{
    private readonly CpuBackend _cpu = new(threads: 1);

    public void Dispose() => _cpu.Dispose();

    private static void Refused(string parameter, Func<object> build)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(build);
        Assert.Equal(parameter, e.ParamName);
        Assert.Contains(parameter == "mergeFraction" ? "merge fraction" : parameter == "reuseCosine" ? "reuse cosine" : parameter, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KvPolicies_RefuseEveryBadSetting_ByName()
    {
        Refused("local", () => new TokenSelectKvPolicy(64, local: -5));
        Refused("reuseCosine", () => new TokenSelectKvPolicy(64, reuseCosine: float.NaN));
        Refused("reuseCosine", () => new TokenSelectKvPolicy(64, reuseCosine: 1.5f));
        Refused("positions", () => new TokenSelectKvPolicy(64, positions: (KvPositionMode)9));
        Refused("sinks", () => new StreamingLlmKvPolicy(16, sinks: -1));
        Refused("mergeFraction", () => new EmsKvPolicy(64, mergeFraction: float.NaN));
        Refused("mergeFraction", () => new EmsKvPolicy(64, mergeFraction: 1.5f));
        Refused("recent", () => new EmsKvPolicy(64, recent: -3));
        Refused("sinks", () => new EmsKvPolicy(64, sinks: -1));
        Refused("pooling", () => new SnapKvPolicy(64, pooling: (SnapKvPooling)7));
        Refused("trigger", () => new RecycledKvPolicy(64, trigger: (RecycleTrigger)7));
        // The settings in range still build.
        Assert.Equal(0.25f, new EmsKvPolicy(64, mergeFraction: 0.25f).MergeFraction);
        Assert.Equal(0, new StreamingLlmKvPolicy(16, sinks: 0).Sinks);
    }

    [Fact]
    public void KvCacheLayout_WhoseSizesOverflow_IsRefused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new PagedKvCache(_cpu, new KvCacheLayout(4, 8, 64, int.MaxValue)));
        Assert.Contains("KvCacheLayout", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PagedKvCache(_cpu, new KvCacheLayout(1, 1, 4, 8, PageTokens: -1)));
    }

    [Fact]
    public void PagedKvCacheAppend_ShortOrMisShapedKeys_AreRefused_AndLeaveTheCacheIntact()
    {
        using var cache = new PagedKvCache(_cpu, new KvCacheLayout(2, 2, 4, 32, PageTokens: 4));
        using var good = Tensor.Zeros(new Shape(3 * 2, 4), DType.F32, _cpu);
        using var shortKey = Tensor.Zeros(new Shape(3 * 2, 3), DType.F32, _cpu);   // D 3 of 4: was zero-padded
        using var fewRows = Tensor.Zeros(new Shape(3 * 2 - 1, 4), DType.F32, _cpu); // one row short
        using var f16 = Tensor.Zeros(new Shape(3 * 2, 4), DType.F16, _cpu);
        cache.Append(0, 1, good, good, 3, 0);
        long bytes = cache.BytesHeld;
        var e = Assert.Throws<ArgumentException>(() => cache.Append(0, 1, shortKey, good, 3, 3));
        Assert.Equal("keys", e.ParamName);
        Assert.Contains("PagedKvCache.Append", e.Message, StringComparison.Ordinal);
        Assert.Equal("values", Assert.Throws<ArgumentException>(() => cache.Append(0, 1, good, fewRows, 3, 3)).ParamName);
        Assert.Equal("keys", Assert.Throws<ArgumentException>(() => cache.Append(0, 1, f16, good, 3, 3)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Append(0, 2, good, good, 3, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Append(0, 1, good, good, -1, 3));
        for (int h = 0; h < 2; h++) Assert.Equal(3, cache.Head(1, h).Count);
        Assert.Equal(bytes, cache.BytesHeld);
        cache.Append(0, 1, good, good, 3, 3);
        Assert.Equal(6, cache.Head(1, 0).Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ToMePlan_OnAnAllNaNMetric_MergesIntoTheLowestPartner(bool classToken)
    {
        // Before: partner -1 for every A token, and the plan indexed row[-1] (IndexOutOfRangeException).
        const int n = 9, r = 3;
        var nan = Enumerable.Repeat(float.NaN, n * 4).ToArray();
        using var metric = Tensor.From<float>(nan, new Shape(1, n, 4), _cpu);
        using var plan = ToMe.Plan(metric, r, new ToMeOptions(ClassToken: classToken));
        Assert.Equal(r, plan.R);
        var sources = plan.Sources.ToArray<int>();
        var destinations = plan.Destinations.ToArray<int>();
        // All scores tie (-inf): A tokens merge in index order, each into B column 0 (token 1); [CLS] never merges.
        int first = classToken ? 2 : 0;
        Assert.Equal(Enumerable.Range(0, r).Select(i => first + 2 * i).ToArray(), sources);
        Assert.All(destinations, d => Assert.Equal(1, d));
        var map = plan.TokenMap.ToArray<int>();
        Assert.All(map, m => Assert.InRange(m, 0, n - r - 1));
        if (classToken) Assert.DoesNotContain(0, sources);
    }

    [Fact]
    public void VitSessionWithToMe_OnNaNPixels_GivesNaNLogits_NotAnIndexError()
    {
        // Issue #21: NaN pixels made every ToMe similarity NaN and the plan indexed row[-1] (HPC_ERR_INTERNAL in C).
        var config = Models.Vit.VitSessionTests.Small(6, 2, 1, 12, 2, 3, 20, 4);
        using var w = Models.Vit.VitSessionTests.ScaledRandom(config, _cpu, seed: 9);
        using var reducer = HpcCore.Models.Vit.VitReducers.Create(HpcCore.Models.Vit.VitMethodSpec.Parse("tome:r=2"), config)!;
        using var session = new HpcCore.Models.Vit.VitSession(w, 2, reducer);
        var pixels = Enumerable.Repeat(float.NaN, 2 * 36).ToArray();
        var logits = session.Forward(pixels).ToArray<float>();
        Assert.All(logits, x => Assert.True(float.IsNaN(x)));
        Assert.Equal([8, 6], session.TokensAfterReduction);
        // The session is still good for finite input.
        var finite = session.Forward(HpcCore.Testing.TestData.Uniform(2 * 36, seed: 1)).ToArray<float>();
        Assert.All(finite, x => Assert.True(float.IsFinite(x)));
    }

    [Fact]
    public void Gemm_IntoADestinationThatAliasesAnInput_IsRefused()
    {
        using var a = Tensor.From<float>(Enumerable.Range(0, 16).Select(i => (float)i).ToArray(), new Shape(4, 4), _cpu);
        using var b = Tensor.From<float>(Enumerable.Range(0, 16).Select(i => 1f / (i + 1)).ToArray(), new Shape(4, 4), _cpu);
        float[] before = a.ToArray<float>();
        var e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(a, b, a));
        Assert.Contains("Gemm", e.Message, StringComparison.Ordinal);
        Assert.Contains("destination", e.Message, StringComparison.Ordinal);
        Assert.Contains("shares memory with a", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, a.ToArray<float>());
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(a, b, b));
        // A destination that overlaps part of an input (a view of its rows) is refused too.
        using var big = Tensor.Zeros(new Shape(8, 4), DType.F32, _cpu);
        using var top = big.Narrow(0, 0, 4);
        using var middle = big.Narrow(0, 2, 4);
        using var bottom = big.Narrow(0, 4, 4);
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(top, b, middle));
        // Disjoint views of one buffer are fine.
        Gemm.Multiply(top, b, bottom);
    }

    [Fact]
    public void Attention_IntoADestinationThatAliasesAnInput_IsRefused()
    {
        var data = Enumerable.Range(0, 2 * 3 * 2 * 4).Select(i => (float)Math.Sin(i)).ToArray();
        using var q = Tensor.From<float>(data, new Shape(2, 3, 2, 4), _cpu);
        using var k = Tensor.From<float>(data, new Shape(2, 3, 2, 4), _cpu);
        using var v = Tensor.From<float>(data, new Shape(2, 3, 2, 4), _cpu);
        foreach (var (name, alias) in new[] { ("q", q), ("k", k), ("v", v) })
        {
            var e = Assert.Throws<ArgumentException>(() => Attention.Forward(q, k, v, alias));
            Assert.Contains($"shares memory with {name}", e.Message, StringComparison.Ordinal);
        }
        Assert.Equal(data, q.ToArray<float>());
        using var output = Attention.Forward(q, k, v);
        Assert.Equal(q.Shape, output.Shape);
    }
}
