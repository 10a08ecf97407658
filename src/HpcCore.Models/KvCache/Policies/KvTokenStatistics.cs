// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// A per-token statistic a policy owns, one row per (layer, kv head) indexed like the cache's tokens: filled from
/// the attention op's exports (summed over the kv head's query heads) and compacted with the same keep list the
/// policy hands the cache, so it stays aligned with the tokens after every eviction.
/// </summary>
public sealed class KvTokenStatistics
{
    private readonly float[][] _rows;

    /// <summary>Zeroed rows for <paramref name="layers"/> x <paramref name="kvHeads"/> heads of <paramref name="maxTokens"/> tokens.</summary>
    public KvTokenStatistics(int layers, int kvHeads, int maxTokens)
    {
        KvHeads = kvHeads;
        _rows = new float[layers * kvHeads][];
        for (int i = 0; i < _rows.Length; i++) _rows[i] = new float[maxTokens];
    }

    /// <summary>Kv heads per layer.</summary>
    public int KvHeads { get; }

    /// <summary>The row of (layer, kv head).</summary>
    public Span<float> Row(int layer, int kvHead) => _rows[layer * KvHeads + kvHead];

    /// <summary>Adds an export [H, width] over each kv head's first <paramref name="counts"/>[kv head] tokens, its query heads summed.</summary>
    public void AddExport(int layer, ReadOnlySpan<float> export, int width, int heads, ReadOnlySpan<int> counts)
    {
        int group = heads / KvHeads;
        for (int h = 0; h < heads; h++)
        {
            int kvh = h / group;
            var row = Row(layer, kvh)[..counts[kvh]];
            System.Numerics.Tensors.TensorPrimitives.Add(row, export.Slice(h * width, counts[kvh]), row);
        }
    }

    /// <summary>Keeps the entries at <paramref name="keep"/> (ascending) in order and zeroes the rest up to <paramref name="count"/>.</summary>
    public void Compact(int layer, int kvHead, ReadOnlySpan<int> keep, int count)
    {
        var row = Row(layer, kvHead);
        for (int n = 0; n < keep.Length; n++) row[n] = row[keep[n]];
        row[keep.Length..count].Clear();
    }

    /// <summary>Zeroes every row (a new sequence).</summary>
    public void Clear()
    {
        foreach (var r in _rows) Array.Clear(r);
    }
}
