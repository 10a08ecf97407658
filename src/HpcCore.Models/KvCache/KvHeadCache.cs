// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// The cached tokens of one (layer, kv head), in order of arrival, in pages from a shared <see cref="KvPagePool"/>.
/// Heads evict independently, so each head can hold a different set (and number) of tokens. Also holds
/// RazorAttention's compensation token: running sums of the dropped keys and values and their count.
/// </summary>
public sealed class KvHeadCache
{
    private readonly KvPagePool _pool;
    private readonly KvPage[] _pages;
    private int _pageCount;

    internal KvHeadCache(KvPagePool pool, int maxTokens)
    {
        _pool = pool;
        _pages = new KvPage[(maxTokens + pool.PageTokens - 1) / pool.PageTokens];
        CompensationKeySum = new float[pool.HeadDim];
        CompensationValueSum = new float[pool.HeadDim];
    }

    /// <summary>Tokens held.</summary>
    public int Count { get; private set; }
    /// <summary>Most tokens this head can hold.</summary>
    public int MaxTokens => _pages.Length * _pool.PageTokens;
    /// <summary>Pages held.</summary>
    public int PageCount => _pageCount;
    /// <summary>Tokens per page.</summary>
    public int PageTokens => _pool.PageTokens;
    /// <summary>Head dim D.</summary>
    public int HeadDim => _pool.HeadDim;
    /// <summary>Sum of the keys summarised by the compensation token (RazorAttention).</summary>
    public float[] CompensationKeySum { get; }
    /// <summary>Sum of the values summarised by the compensation token.</summary>
    public float[] CompensationValueSum { get; }
    /// <summary>Number of dropped tokens the compensation token stands for (0: no compensation token).</summary>
    public int CompensationCount { get; private set; }

    /// <summary>Page <paramref name="index"/> (tokens index*P .. index*P + P - 1).</summary>
    public KvPage Page(int index) => _pages[index];

    /// <summary>Key of token <paramref name="i"/> [D].</summary>
    public Span<float> Key(int i) => _pages[i / PageTokens].Keys.AsSpan(i % PageTokens * HeadDim, HeadDim);
    /// <summary>Value of token <paramref name="i"/> [D].</summary>
    public Span<float> Value(int i) => _pages[i / PageTokens].Values.AsSpan(i % PageTokens * HeadDim, HeadDim);
    /// <summary>Original position of token <paramref name="i"/>.</summary>
    public int Position(int i) => _pages[i / PageTokens].Positions[i % PageTokens];
    /// <summary>Accumulated attention of token <paramref name="i"/>.</summary>
    public ref float Score(int i) => ref _pages[i / PageTokens].Scores[i % PageTokens];
    /// <summary>Observation-window attention of token <paramref name="i"/>.</summary>
    public ref float WindowScore(int i) => ref _pages[i / PageTokens].WindowScores[i % PageTokens];
    /// <summary>Queries that attended token <paramref name="i"/>.</summary>
    public ref int Seen(int i) => ref _pages[i / PageTokens].Seen[i % PageTokens];

    /// <summary>Appends one token (key already rotated at <paramref name="position"/>), renting a page when the last is full.</summary>
    public void Append(ReadOnlySpan<float> key, ReadOnlySpan<float> value, int position)
    {
        if (Count == MaxTokens)
            throw new KvCapacityException($"KvHeadCache.Append: the head already holds its maximum of {MaxTokens} tokens " +
                                          $"(position {position}); raise the cache's max tokens or use an evicting policy.");
        if (Count == _pageCount * PageTokens) _pages[_pageCount++] = _pool.Rent();
        int i = Count++;
        key.CopyTo(Key(i));
        value.CopyTo(Value(i));
        var page = _pages[i / PageTokens];
        int o = i % PageTokens;
        page.Positions[o] = position;
        page.Scores[o] = 0f;
        page.WindowScores[o] = 0f;
        page.Seen[o] = 0;
    }

    /// <summary>
    /// Keeps only the tokens at <paramref name="keep"/> (ascending, distinct indices below <see cref="Count"/>), in
    /// order, and returns the pages no longer needed to the pool. Allocates nothing.
    /// </summary>
    public void Keep(ReadOnlySpan<int> keep)
    {
        if (keep.Length > Count)
            throw new ArgumentException($"KvHeadCache.Keep: keep has {keep.Length} indices but the head holds {Count} tokens.", nameof(keep));
        int prev = -1;
        foreach (int k in keep)
        {
            if (k <= prev || k >= Count)
                throw new ArgumentException($"KvHeadCache.Keep: index {k} after {prev} is not ascending within 0..{Count - 1}.", nameof(keep));
            prev = k;
        }
        for (int n = 0; n < keep.Length; n++)
            if (keep[n] != n) Move(keep[n], n);
        Count = keep.Length;
        int needed = (Count + PageTokens - 1) / PageTokens;
        while (_pageCount > needed)
        {
            _pool.Return(_pages[--_pageCount]);
            _pages[_pageCount] = null!;
        }
    }

    /// <summary>Adds token <paramref name="i"/>'s key and value to the compensation token (before it is dropped).</summary>
    public void AddToCompensation(int i)
    {
        var k = Key(i);
        var v = Value(i);
        for (int d = 0; d < HeadDim; d++)
        {
            CompensationKeySum[d] += k[d];
            CompensationValueSum[d] += v[d];
        }
        CompensationCount++;
    }

    /// <summary>Drops every token and the compensation token, returning all pages.</summary>
    public void Clear()
    {
        while (_pageCount > 0)
        {
            _pool.Return(_pages[--_pageCount]);
            _pages[_pageCount] = null!;
        }
        Count = 0;
        CompensationCount = 0;
        Array.Clear(CompensationKeySum);
        Array.Clear(CompensationValueSum);
    }

    private void Move(int from, int to)
    {
        Key(from).CopyTo(Key(to));
        Value(from).CopyTo(Value(to));
        var a = _pages[from / PageTokens];
        var b = _pages[to / PageTokens];
        int oa = from % PageTokens, ob = to % PageTokens;
        b.Positions[ob] = a.Positions[oa];
        b.Scores[ob] = a.Scores[oa];
        b.WindowScores[ob] = a.WindowScores[oa];
        b.Seen[ob] = a.Seen[oa];
    }
}
