// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// Per-kv-head token subsets that one attention call reads instead of the whole head (TokenSelect, Recycled
/// Attention): ascending token indices, filled by a policy in <see cref="KvPolicy.Request"/>. Host buffers sized
/// once; the attention runner uploads them as the op's SelectedKeys / SelectedCounts.
/// </summary>
public sealed class KvSelection
{
    private readonly int[] _indices;
    private readonly int[] _counts;

    internal KvSelection(int kvHeads, int maxTokens)
    {
        MaxTokens = maxTokens;
        _indices = new int[kvHeads * maxTokens];
        _counts = new int[kvHeads];
    }

    /// <summary>Number of kv heads.</summary>
    public int KvHeads => _counts.Length;
    /// <summary>Most indices per head.</summary>
    public int MaxTokens { get; }

    /// <summary>The selected indices of <paramref name="kvHead"/>.</summary>
    public ReadOnlySpan<int> Indices(int kvHead) => _indices.AsSpan(kvHead * MaxTokens, _counts[kvHead]);

    /// <summary>The whole buffer of <paramref name="kvHead"/>, to be filled then committed with <see cref="SetCount"/>.</summary>
    public Span<int> Buffer(int kvHead) => _indices.AsSpan(kvHead * MaxTokens, MaxTokens);

    /// <summary>Sets how many leading entries of <see cref="Buffer"/> are the selection.</summary>
    public void SetCount(int kvHead, int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)count, (uint)MaxTokens, nameof(count));
        _counts[kvHead] = count;
    }

    internal ReadOnlySpan<int> AllIndices => _indices;
    internal ReadOnlySpan<int> Counts => _counts;
}
