// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.KvCache;

using HpcCore.Models.KvCache;
using Xunit;

/// <summary>Paged per-head storage: appends across pages, compaction keeps data and positions, pages go back to the pool.</summary>
public sealed class KvHeadCacheTests
{
    private static float[] Row(int token, int d, float salt) => Enumerable.Range(0, d).Select(i => token * 10f + i + salt).ToArray();

    [Fact]
    public void Keep_CompactsInOrder_AndFreesPages()
    {
        var cache = new PagedKvCache(layers: 2, kvHeads: 3, headDim: 5, maxTokensPerHead: 40, pageTokens: 4);
        var head = cache.Head(1, 2);
        for (int t = 0; t < 37; t++) head.Append(Row(t, 5, 0f), Row(t, 5, 0.5f), position: 100 + t);
        Assert.Equal(10, cache.Pool.PagesInUse);
        long before = cache.BytesHeld;
        int[] keep = [0, 3, 4, 17, 30, 36];
        head.Keep(keep);
        Assert.Equal(6, head.Count);
        Assert.Equal(2, cache.Pool.PagesInUse);
        Assert.Equal(before / 5, cache.BytesHeld);
        for (int i = 0; i < keep.Length; i++)
        {
            Assert.Equal(Row(keep[i], 5, 0f), head.Key(i).ToArray());
            Assert.Equal(Row(keep[i], 5, 0.5f), head.Value(i).ToArray());
            Assert.Equal(100 + keep[i], head.Position(i));
        }
        // Freed pages are reused before new ones are created.
        int created = cache.Pool.PagesCreated;
        var other = cache.Head(0, 0);
        for (int t = 0; t < 20; t++) other.Append(Row(t, 5, 1f), Row(t, 5, 2f), t);
        Assert.Equal(created, cache.Pool.PagesCreated);
    }

    [Fact]
    public void Keep_RejectsUnsortedOrOutOfRange_LeavingTheHeadIntact()
    {
        var cache = new PagedKvCache(1, 1, 2, 8, pageTokens: 2);
        var head = cache.Head(0, 0);
        for (int t = 0; t < 5; t++) head.Append([t, t], [t, t], t);
        Assert.Contains("ascending", Assert.Throws<ArgumentException>(() => head.Keep([0, 3, 2])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => head.Keep([0, 5]));
        Assert.Equal(5, head.Count);
        Assert.Equal(4f, head.Key(4)[0]);
    }

    [Fact]
    public void Capacity_ThrowsClearError()
    {
        var cache = new PagedKvCache(1, 1, 2, 4, pageTokens: 2);
        var head = cache.Head(0, 0);
        for (int t = 0; t < 4; t++) head.Append([1, 1], [1, 1], t);
        var e = Assert.Throws<KvCapacityException>(() => head.Append([1, 1], [1, 1], 4));
        Assert.Contains("maximum of 4 tokens", e.Message, StringComparison.Ordinal);
        var pool = new KvPagePool(2, 2, maxPages: 1);
        pool.Rent();
        Assert.Contains("all 1 pages", Assert.Throws<KvCapacityException>(() => pool.Rent()).Message, StringComparison.Ordinal);
    }
}
