// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.KvCache;

using HpcCore.Cpu;
using HpcCore.Models.KvCache;
using HpcCore.Tensors;
using Xunit;

/// <summary>
/// The paged cache in backend memory: appends across pages, decisions applied (compaction keeps data and positions,
/// pages go back to the pool, merges and compensation sums), F16/BF16 pages, shared pools, bad decisions refused intact.
/// </summary>
public sealed class KvHeadCacheTests
{
    private static float Value(int token, int head, int i, float salt) => token * 10f + head * 0.25f + i + salt;

    // Appends `tokens` rows to every kv head of `layer`, one chunk, rows [t, h, :] = Value(t, h, i, salt).
    private static void Fill(PagedKvCache cache, int layer, int tokens, int first = 0, int sequence = 0)
    {
        int hkv = cache.KvHeads, d = cache.HeadDim;
        var k = new float[tokens * hkv * d];
        var v = new float[k.Length];
        for (int t = 0; t < tokens; t++)
        for (int h = 0; h < hkv; h++)
        for (int i = 0; i < d; i++)
        {
            k[(t * hkv + h) * d + i] = Value(first + t, h, i, 0f);
            v[(t * hkv + h) * d + i] = Value(first + t, h, i, 0.5f);
        }
        using var kt = Tensor.From<float>(k, new Shape(tokens * hkv, d), cache.Backend);
        using var vt = Tensor.From<float>(v, new Shape(tokens * hkv, d), cache.Backend);
        cache.Append(sequence, layer, kt, vt, tokens, first);
    }

    private static (float[] K, float[] V) Read(PagedKvCache cache, int layer, int head, int sequence = 0)
    {
        int n = cache.Head(layer, head, sequence).Count, d = cache.HeadDim;
        var k = new float[n * d];
        var v = new float[n * d];
        cache.ReadHead(sequence, layer, head, k, v);
        return (k, v);
    }

    [Fact]
    public void Apply_CompactsInOrder_AndFreesPages()
    {
        using var cpu = new CpuBackend(threads: 1);
        using var cache = new PagedKvCache(cpu, new KvCacheLayout(2, 3, 5, 40, PageTokens: 4));
        Fill(cache, 1, 37, first: 100);
        Assert.Equal(3 * 10, cache.Pool.PagesInUse);
        long before = cache.BytesHeld;
        var decisions = new KvDecisionsProbe(cache).Decisions;
        int[] keep = [0, 3, 4, 17, 30, 36];
        keep.CopyTo(decisions.KeepBuffer(1, 2));
        decisions.Keep(1, 2, keep.Length);
        cache.Apply(0, decisions);
        var head = cache.Head(1, 2);
        Assert.Equal(6, head.Count);
        Assert.Equal(2 * 10 + 2, cache.Pool.PagesInUse);
        Assert.Equal(before - 8 * cache.Pool.BytesPerPage, cache.BytesHeld);
        var (k, v) = Read(cache, 1, 2);
        for (int n = 0; n < keep.Length; n++)
        {
            for (int i = 0; i < 5; i++)
            {
                Assert.Equal(Value(100 + keep[n], 2, i, 0f), k[n * 5 + i]);
                Assert.Equal(Value(100 + keep[n], 2, i, 0.5f), v[n * 5 + i]);
            }
            Assert.Equal(100 + keep[n], head.Position(n));
        }
        // The other heads are untouched.
        Assert.Equal(37, cache.Head(1, 1).Count);
        Assert.Equal(Value(136, 1, 4, 0f), Read(cache, 1, 1).K[36 * 5 + 4]);
    }

    [Theory]
    [InlineData(DType.F16)]
    [InlineData(DType.BF16)]
    public void HalfPages_HoldHalfTheBytes_AndRoundTrip(DType dtype)
    {
        using var cpu = new CpuBackend(threads: 1);
        using var f32 = new PagedKvCache(cpu, new KvCacheLayout(1, 2, 8, 32));
        using var half = new PagedKvCache(cpu, new KvCacheLayout(1, 2, 8, 32, DType: dtype));
        Fill(f32, 0, 20);
        Fill(half, 0, 20);
        Assert.Equal(f32.BytesHeld / 2, half.BytesHeld);
        var (exact, _) = Read(f32, 0, 1);
        var (rounded, _) = Read(half, 0, 1);
        // Values up to ~200: F16 keeps 11 significant bits, BF16 8.
        float tolerance = dtype == DType.F16 ? 0.125f : 1f;
        for (int i = 0; i < exact.Length; i++) Assert.InRange(rounded[i] - exact[i], -tolerance, tolerance);
    }

    [Fact]
    public void MergesAndCompensation_AreAppliedBeforeDropping()
    {
        using var cpu = new CpuBackend(threads: 1);
        using var cache = new PagedKvCache(cpu, new KvCacheLayout(1, 1, 3, 16, PageTokens: 4));
        Fill(cache, 0, 6);
        var decisions = new KvDecisionsProbe(cache).Decisions;
        decisions.Merge(0, 0, centre: 1, token: 2, centreWeight: 3f, tokenWeight: 1f);
        int[] keep = [0, 1, 5];
        keep.CopyTo(decisions.KeepBuffer(0, 0));
        decisions.Keep(0, 0, 3);
        decisions.Compensate(0, 0);
        cache.Apply(0, decisions);
        var (k, _) = Read(cache, 0, 0);
        for (int i = 0; i < 3; i++) Assert.Equal((Value(1, 0, i, 0f) * 3 + Value(2, 0, i, 0f)) / 4, k[3 + i], 4);
        Assert.Equal(3, cache.Head(0, 0).CompensationCount);
        var comp = cache.Compensation(0, 0);
        Assert.NotNull(comp);
        var mean = comp.Value.Keys.ToArray<float>();
        // Tokens 2, 3, 4 were dropped: their mean key (token 2 as it was before the merge).
        for (int i = 0; i < 3; i++) Assert.Equal((Value(2, 0, i, 0f) + Value(3, 0, i, 0f) + Value(4, 0, i, 0f)) / 3, mean[i], 4);
        Assert.Equal(MathF.Log(3), comp.Value.Bias.ToArray<float>()[0], 5);
    }

    [Fact]
    public void BadDecision_IsRefused_LeavingTheCacheIntact()
    {
        using var cpu = new CpuBackend(threads: 1);
        using var cache = new PagedKvCache(cpu, new KvCacheLayout(1, 1, 2, 8, PageTokens: 2));
        Fill(cache, 0, 5);
        var decisions = new KvDecisionsProbe(cache).Decisions;
        int[] keep = [0, 3, 2];
        keep.CopyTo(decisions.KeepBuffer(0, 0));
        decisions.Keep(0, 0, 3);
        Assert.Contains("ascending", Assert.Throws<ArgumentException>(() => cache.Apply(0, decisions)).Message, StringComparison.Ordinal);
        Assert.Equal(5, cache.Head(0, 0).Count);
        Assert.Equal(Value(4, 0, 0, 0f), Read(cache, 0, 0).K[8]);
        // A valid merge beside an out-of-range one (the keep list now keeps all 5): neither is applied.
        int[] all = [0, 1, 2, 3, 4];
        all.CopyTo(decisions.KeepBuffer(0, 0));
        decisions.Keep(0, 0, all.Length);
        decisions.Merge(0, 0, centre: 1, token: 2, centreWeight: 1f, tokenWeight: 1f);
        decisions.Merge(0, 0, centre: 1, token: 9, centreWeight: 1f, tokenWeight: 1f);
        Assert.Contains("outside the 5 tokens", Assert.Throws<ArgumentException>(() => cache.Apply(0, decisions)).Message, StringComparison.Ordinal);
        Assert.Equal(Value(1, 0, 0, 0f), Read(cache, 0, 0).K[2]);
    }

    [Fact]
    public void Capacity_ThrowsClearError_BeforeChangingAnything()
    {
        using var cpu = new CpuBackend(threads: 1);
        using var cache = new PagedKvCache(cpu, new KvCacheLayout(1, 1, 2, 4, PageTokens: 2));
        Fill(cache, 0, 4);
        var e = Assert.Throws<KvCapacityException>(() => Fill(cache, 0, 1, first: 4));
        Assert.Contains("4 of its 4 tokens", e.Message, StringComparison.Ordinal);
        Assert.Equal(4, cache.Head(0, 0).Count);
        using var small = new PagedKvCache(cpu, new KvCacheLayout(1, 2, 2, 8, PageTokens: 2, MaxPages: 3));
        Assert.Contains("pages are needed", Assert.Throws<KvCapacityException>(() => Fill(small, 0, 3)).Message, StringComparison.Ordinal);
        Assert.Equal(0, small.Pool.PagesInUse);
    }

    [Fact]
    public void Sequences_ShareOnePool_WithTheirOwnTables()
    {
        using var cpu = new CpuBackend(threads: 1);
        using var cache = new PagedKvCache(cpu, new KvCacheLayout(1, 2, 4, 16, PageTokens: 4, Sequences: 2));
        Fill(cache, 0, 5, first: 0, sequence: 0);
        Fill(cache, 0, 9, first: 50, sequence: 1);
        Assert.Equal(2 * 2 + 2 * 3, cache.Pool.PagesInUse);
        Assert.Equal(Value(4, 1, 3, 0f), Read(cache, 0, 1, 0).K[4 * 4 + 3]);
        Assert.Equal(Value(58, 1, 3, 0f), Read(cache, 0, 1, 1).K[8 * 4 + 3]);
        cache.Clear(0);
        Assert.Equal(2 * 3, cache.Pool.PagesInUse);
        Assert.Equal(9, cache.Head(0, 0, 1).Count);
    }

    // KvDecisions has an internal constructor: tests reach it through the decoder-facing factory below.
    private sealed class KvDecisionsProbe(PagedKvCache cache)
    {
        public KvDecisions Decisions { get; } = KvDecisions.For(cache);
    }
}
