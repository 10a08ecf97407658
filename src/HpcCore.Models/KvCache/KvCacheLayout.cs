// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

using HpcCore.Tensors;

/// <summary>Shape and storage of a <see cref="PagedKvCache"/>.</summary>
/// <param name="Layers">Decoder layers.</param>
/// <param name="KvHeads">Key/value heads per layer (Hkv).</param>
/// <param name="HeadDim">Head dim D.</param>
/// <param name="MaxTokensPerHead">Most tokens one (sequence, layer, kv head) can hold.</param>
/// <param name="PageTokens">Tokens per page P (0: 16).</param>
/// <param name="DType">Element type of the cached keys and values: F32, F16 or BF16 (attention accumulates in F32).</param>
/// <param name="Sequences">Sequences sharing the page pool, each with its own block tables (0: 1).</param>
/// <param name="MaxPages">Pages in the pool (0: room for every head of every sequence to be full).</param>
public readonly record struct KvCacheLayout(
    int Layers,
    int KvHeads,
    int HeadDim,
    int MaxTokensPerHead,
    int PageTokens = 0,
    DType DType = DType.F32,
    int Sequences = 0,
    int MaxPages = 0)
{
    /// <summary>Tokens per page, defaults applied.</summary>
    public int Page => PageTokens > 0 ? PageTokens : 16;

    /// <summary>Sequences, defaults applied.</summary>
    public int SequenceCount => Sequences > 0 ? Sequences : 1;

    /// <summary>Pages one head needs at most.</summary>
    public int BlocksPerHead => (int)(((long)MaxTokensPerHead + Page - 1) / Page);

    /// <summary>Tokens one head can really hold: <see cref="MaxTokensPerHead"/> rounded up to whole pages (the width of per-token buffers and exports).</summary>
    public int TokensPerHead => BlocksPerHead * Page;

    /// <summary>Throws <see cref="ArgumentException"/> naming the field when the layout is unusable.</summary>
    public void Validate()
    {
        static void Positive(string name, int v)
        {
            if (v <= 0) throw new ArgumentOutOfRangeException(name, v, $"KvCacheLayout: {name} = {v} must be positive.");
        }
        Positive(nameof(Layers), Layers);
        Positive(nameof(KvHeads), KvHeads);
        Positive(nameof(HeadDim), HeadDim);
        Positive(nameof(MaxTokensPerHead), MaxTokensPerHead);
        if (PageTokens < 0) throw new ArgumentOutOfRangeException(nameof(PageTokens), PageTokens, $"KvCacheLayout: PageTokens = {PageTokens} must be >= 0 (0: 16).");
        if (Sequences < 0) throw new ArgumentOutOfRangeException(nameof(Sequences), Sequences, $"KvCacheLayout: Sequences = {Sequences} must be >= 0 (0: 1).");
        if (MaxPages < 0) throw new ArgumentOutOfRangeException(nameof(MaxPages), MaxPages, $"KvCacheLayout: MaxPages = {MaxPages} must be >= 0 (0: all heads full).");
        // Every size derived from the layout must fit an int (page ids, slots) and the pool's bytes a long.
        long blocks = ((long)MaxTokensPerHead + Page - 1) / Page;
        long pages = MaxPages > 0 ? MaxPages : blocks * SequenceCount * Layers * KvHeads;
        if (blocks * Page > int.MaxValue || pages > int.MaxValue || pages * Page > int.MaxValue || (long)KvHeads * HeadDim > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(MaxTokensPerHead), MaxTokensPerHead,
                $"KvCacheLayout: {SequenceCount} sequences x {Layers} layers x {KvHeads} kv heads x {MaxTokensPerHead} tokens in pages of {Page} " +
                $"(D = {HeadDim}) is too large: page rows must stay below 2^31.");
        if (DType is not (DType.F32 or DType.F16 or DType.BF16))
            throw new ArgumentException($"KvCacheLayout: DType {DType} is not a cache type; expected F32, F16 or BF16.", nameof(DType));
    }
}
