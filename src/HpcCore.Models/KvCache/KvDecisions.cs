// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// What a policy decided for the heads of one sequence, applied afterwards by <see cref="PagedKvCache.Apply"/> (a
/// policy never changes the cache itself). Per (layer, kv head): the token indices to keep (ascending), whether the
/// tokens not kept are folded into the compensation token (RazorAttention), and weighted merges of dropped tokens into
/// kept ones (EMS), applied in the order given before anything is dropped. Buffers are sized once.
/// </summary>
public sealed class KvDecisions
{
    private readonly int[][] _keep;
    private readonly int[] _keepCount;
    private readonly bool[] _compensate;
    private readonly List<(int Head, int Centre, int Token, float CentreWeight, float TokenWeight)> _merges;

    internal KvDecisions(int layers, int kvHeads, int maxTokens)
    {
        Layers = layers;
        KvHeads = kvHeads;
        _keep = new int[layers * kvHeads][];
        for (int i = 0; i < _keep.Length; i++) _keep[i] = new int[maxTokens];
        _keepCount = new int[layers * kvHeads];
        _compensate = new bool[layers * kvHeads];
        _merges = new List<(int, int, int, float, float)>(maxTokens);
        Clear();
    }

    /// <summary>Empty decisions sized for <paramref name="cache"/> (one per decoder or caller; reused every step).</summary>
    public static KvDecisions For(PagedKvCache cache)
    {
        ArgumentNullException.ThrowIfNull(cache);
        return new KvDecisions(cache.Layers, cache.KvHeads, cache.Layout.TokensPerHead);
    }

    /// <summary>Layers.</summary>
    public int Layers { get; }
    /// <summary>Kv heads per layer.</summary>
    public int KvHeads { get; }

    /// <summary>The buffer to write <paramref name="layer"/>/<paramref name="kvHead"/>'s kept indices into, then <see cref="Keep"/>.</summary>
    public Span<int> KeepBuffer(int layer, int kvHead) => _keep[Index(layer, kvHead)];

    /// <summary>Keeps the first <paramref name="count"/> indices of <see cref="KeepBuffer"/> (ascending, distinct).</summary>
    public void Keep(int layer, int kvHead, int count)
    {
        int i = Index(layer, kvHead);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)count, (uint)_keep[i].Length, nameof(count));
        _keepCount[i] = count;
    }

    /// <summary>Folds every token the keep list drops into the head's compensation token (mean key and value, logit bias log n).</summary>
    public void Compensate(int layer, int kvHead) => _compensate[Index(layer, kvHead)] = true;

    /// <summary>centre := (centre * wc + token * wt) / (wc + wt) for keys and values, before dropping (EMS).</summary>
    public void Merge(int layer, int kvHead, int centre, int token, float centreWeight, float tokenWeight) =>
        _merges.Add((Index(layer, kvHead), centre, token, centreWeight, tokenWeight));

    internal bool HasKeep(int head) => _keepCount[head] >= 0;
    internal ReadOnlySpan<int> Kept(int head) => _keep[head].AsSpan(0, _keepCount[head]);
    internal bool Compensates(int head) => _compensate[head];
    internal IReadOnlyList<(int Head, int Centre, int Token, float CentreWeight, float TokenWeight)> Merges => _merges;
    internal bool IsEmpty
    {
        get
        {
            if (_merges.Count > 0) return false;
            foreach (int c in _keepCount) if (c >= 0) return false;
            return true;
        }
    }

    internal void Clear()
    {
        Array.Fill(_keepCount, -1);
        Array.Clear(_compensate);
        _merges.Clear();
    }

    private int Index(int layer, int kvHead)
    {
        if ((uint)layer >= (uint)Layers || (uint)kvHead >= (uint)KvHeads)
            throw new ArgumentOutOfRangeException(nameof(layer), $"KvDecisions: (layer {layer}, kv head {kvHead}) is outside [{Layers}, {KvHeads}].");
        return layer * KvHeads + kvHead;
    }
}
