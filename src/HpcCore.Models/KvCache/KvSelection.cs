// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// Per-kv-head token subsets the attention kernel reads in place of the whole head (TokenSelect, Recycled
/// Attention): ascending token indices into each <see cref="KvHeadCache"/>. Buffers are sized once; filling a
/// selection allocates nothing.
/// </summary>
public sealed class KvSelection
{
    private readonly int[][] _indices;
    private readonly int[] _counts;

    /// <summary>Creates buffers for <paramref name="kvHeads"/> heads of at most <paramref name="maxTokens"/> indices.</summary>
    public KvSelection(int kvHeads, int maxTokens)
    {
        _indices = new int[kvHeads][];
        _counts = new int[kvHeads];
        for (int h = 0; h < kvHeads; h++) _indices[h] = new int[maxTokens];
    }

    /// <summary>Number of kv heads.</summary>
    public int KvHeads => _counts.Length;

    /// <summary>The selected indices of <paramref name="kvHead"/>.</summary>
    public ReadOnlySpan<int> Indices(int kvHead) => _indices[kvHead].AsSpan(0, _counts[kvHead]);

    /// <summary>The whole buffer of <paramref name="kvHead"/>, to be filled then committed with <see cref="SetCount"/>.</summary>
    public Span<int> Buffer(int kvHead) => _indices[kvHead];

    /// <summary>Sets how many leading entries of <see cref="Buffer"/> are the selection.</summary>
    public void SetCount(int kvHead, int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)count, (uint)_indices[kvHead].Length, nameof(count));
        _counts[kvHead] = count;
    }
}
