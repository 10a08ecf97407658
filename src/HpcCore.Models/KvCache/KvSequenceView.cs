// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// What a policy sees of one sequence of a <see cref="PagedKvCache"/>: counts, original positions and, where a rule
/// needs them, the keys and values read back to the host. Read-only: decisions go into <see cref="KvDecisions"/>.
/// </summary>
public sealed class KvSequenceView
{
    private readonly PagedKvCache _cache;

    internal KvSequenceView(PagedKvCache cache, int sequence)
    {
        _cache = cache;
        Sequence = sequence;
    }

    /// <summary>The sequence's index in the cache.</summary>
    public int Sequence { get; }
    /// <summary>Layers.</summary>
    public int Layers => _cache.Layers;
    /// <summary>Kv heads per layer.</summary>
    public int KvHeads => _cache.KvHeads;
    /// <summary>Head dim D.</summary>
    public int HeadDim => _cache.HeadDim;
    /// <summary>Most tokens one head can hold.</summary>
    public int MaxTokensPerHead => _cache.Layout.TokensPerHead;
    /// <summary>Tokens per page.</summary>
    public int PageTokens => _cache.Layout.Page;

    /// <summary>Tokens held by (layer, kv head).</summary>
    public int Count(int layer, int kvHead) => _cache.Head(layer, kvHead, Sequence).Count;

    /// <summary>The host state of (layer, kv head): count, original positions, compensation count.</summary>
    public KvHeadCache Head(int layer, int kvHead) => _cache.Head(layer, kvHead, Sequence);

    /// <summary>
    /// Per-query-head softmax of raw q.k (no 1/sqrt(D)) over the tokens [<paramref name="lo"/>, <paramref name="hi"/>)
    /// of every kv head of <paramref name="layer"/>, for <paramref name="query"/> [H, D]: written to
    /// <paramref name="probabilities"/> [H, hi - lo]. Runs the paged attention op on the cache's backend (the keys stay
    /// there); TokenSelect's vote.
    /// </summary>
    public void CandidateSoftmax(int layer, ReadOnlySpan<float> query, int lo, int hi, Span<float> probabilities) =>
        _cache.CandidateSoftmax(Sequence, layer, query, lo, hi, probabilities);

    /// <summary>Keys (and values, unless empty) of (layer, kv head) as F32 [Count, D] on the host.</summary>
    public void ReadHead(int layer, int kvHead, Span<float> keys, Span<float> values) => _cache.ReadHead(Sequence, layer, kvHead, keys, values);
}
