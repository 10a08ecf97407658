// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// Host bookkeeping of one (sequence, layer, kv head): the page ids that hold its tokens in order (its block-table
/// row), how many tokens it holds, each token's original position, and RazorAttention's compensation token (running
/// sums of the dropped keys and values and their count). The keys and values themselves are in the cache's backend
/// pages; only <see cref="PagedKvCache"/> changes this state.
/// </summary>
public sealed class KvHeadCache
{
    private readonly int[] _positions;

    internal KvHeadCache(int maxBlocks, int pageTokens, int headDim)
    {
        Pages = new int[maxBlocks];
        PageTokens = pageTokens;
        _positions = new int[maxBlocks * pageTokens];
        CompensationKeySum = new double[headDim];
        CompensationValueSum = new double[headDim];
    }

    /// <summary>Tokens held.</summary>
    public int Count { get; internal set; }
    /// <summary>Most tokens this head can hold.</summary>
    public int MaxTokens => Pages.Length * PageTokens;
    /// <summary>Tokens per page.</summary>
    public int PageTokens { get; }
    /// <summary>Pages held.</summary>
    public int PageCount => (Count + PageTokens - 1) / PageTokens;
    /// <summary>Dropped tokens the compensation token stands for (0: none).</summary>
    public int CompensationCount { get; internal set; }
    /// <summary>Original position of token <paramref name="i"/> (its RoPE position in the model's numbering).</summary>
    public int Position(int i) => _positions[i];
    /// <summary>Original positions of the tokens held, in order.</summary>
    public ReadOnlySpan<int> Positions => _positions.AsSpan(0, Count);

    internal int[] Pages { get; }
    internal Span<int> PositionBuffer => _positions;
    internal double[] CompensationKeySum { get; }
    internal double[] CompensationValueSum { get; }

    /// <summary>Flat page row (page * P + offset) of token <paramref name="i"/>.</summary>
    internal int Slot(int i) => Pages[i / PageTokens] * PageTokens + i % PageTokens;

    internal void ResetCompensation()
    {
        CompensationCount = 0;
        Array.Clear(CompensationKeySum);
        Array.Clear(CompensationValueSum);
    }
}
