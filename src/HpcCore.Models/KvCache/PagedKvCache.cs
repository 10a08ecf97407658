// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// A decoder's KV cache: one <see cref="KvHeadCache"/> per (layer, kv head), all drawing fixed-size pages from one
/// <see cref="KvPagePool"/>. <see cref="BytesHeld"/> is what the pages in use cost, so it shrinks when a policy evicts.
/// </summary>
public sealed class PagedKvCache
{
    private readonly KvHeadCache[] _heads;

    /// <summary>
    /// Creates a cache for <paramref name="layers"/> x <paramref name="kvHeads"/> heads of dim <paramref name="headDim"/>,
    /// each holding at most <paramref name="maxTokensPerHead"/> tokens; the pool has room for every head to be full
    /// unless <paramref name="maxPages"/> caps it lower.
    /// </summary>
    public PagedKvCache(int layers, int kvHeads, int headDim, int maxTokensPerHead, int pageTokens = 16, int maxPages = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kvHeads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxTokensPerHead);
        ArgumentOutOfRangeException.ThrowIfNegative(maxPages);
        int perHead = (maxTokensPerHead + pageTokens - 1) / pageTokens;
        Pool = new KvPagePool(pageTokens, headDim, maxPages > 0 ? maxPages : checked(perHead * layers * kvHeads));
        Layers = layers;
        KvHeads = kvHeads;
        HeadDim = headDim;
        _heads = new KvHeadCache[layers * kvHeads];
        for (int i = 0; i < _heads.Length; i++) _heads[i] = new KvHeadCache(Pool, maxTokensPerHead);
    }

    /// <summary>The shared page pool.</summary>
    public KvPagePool Pool { get; }
    /// <summary>Layers.</summary>
    public int Layers { get; }
    /// <summary>Kv heads per layer.</summary>
    public int KvHeads { get; }
    /// <summary>Head dim D.</summary>
    public int HeadDim { get; }
    /// <summary>Bytes held by the pages in use.</summary>
    public long BytesHeld => Pool.BytesHeld;

    /// <summary>The cache of one (layer, kv head).</summary>
    public KvHeadCache Head(int layer, int kvHead) => _heads[layer * KvHeads + kvHead];

    /// <summary>Tokens held, summed over every (layer, kv head).</summary>
    public long TokensHeld
    {
        get
        {
            long n = 0;
            foreach (var h in _heads) n += h.Count;
            return n;
        }
    }

    /// <summary>Empties every head (start of a new sequence).</summary>
    public void Clear()
    {
        foreach (var h in _heads) h.Clear();
    }
}
