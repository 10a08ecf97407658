// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>
/// Per-query-head softmax of raw q.k over a range of candidate tokens, computed by the paged attention op itself
/// (selected keys = the candidates, scale 1, the probability export): TokenSelect's "paged dot-product kernel", on
/// the cache's backend, without reading the keys back to the host. Tensors are allocated on first use and reused.
/// </summary>
internal sealed class KvCandidateScorer(PagedKvCache cache) : IDisposable
{
    private Tensor? _query;
    private Tensor? _output;
    private Tensor? _selected;
    private Tensor? _counts;
    private Tensor? _probabilities;
    private int[] _selectedHost = [];
    private int[] _countsHost = [];
    private float[] _probabilitiesHost = [];

    /// <summary>
    /// <paramref name="probabilities"/> [H, hi - lo] = softmax over j in [lo, hi) of q_h . k_j (kv head h / (H / Hkv))
    /// for every query head of <paramref name="query"/> [H, D] against <paramref name="layer"/> of <paramref name="sequence"/>.
    /// </summary>
    public void Softmax(int sequence, int layer, ReadOnlySpan<float> query, int lo, int hi, Span<float> probabilities)
    {
        int d = cache.HeadDim, heads = query.Length / d, hkv = cache.KvHeads, width = cache.Layout.TokensPerHead, n = hi - lo;
        if (heads * d != query.Length || heads % hkv != 0 || lo < 0 || n <= 0 || probabilities.Length < heads * n)
            throw new ArgumentException($"KvCandidateScorer: query has {query.Length} floats for D = {d} and {hkv} kv heads; candidates [{lo}, {hi}); probabilities {probabilities.Length}.");
        if (_query is null || _query.Shape[2] != heads)
        {
            Dispose();
            _query = Tensor.Zeros(new Shape(1, 1, heads, d), DType.F32, cache.Backend);
            _output = Tensor.Zeros(new Shape(1, 1, heads, d), DType.F32, cache.Backend);
            _selected = Tensor.Zeros(new Shape(1, hkv, width), DType.I32, cache.Backend);
            _counts = Tensor.Zeros(new Shape(1, hkv), DType.I32, cache.Backend);
            _probabilities = Tensor.Zeros(new Shape(1, 1, heads, width), DType.F32, cache.Backend);
            _selectedHost = new int[hkv * width];
            _countsHost = new int[hkv];
            _probabilitiesHost = new float[heads * width];
        }
        for (int g = 0; g < hkv; g++)
        {
            for (int j = 0; j < n; j++) _selectedHost[g * width + j] = lo + j;
            _countsHost[g] = n;
        }
        _query.CopyFrom(query);
        _selected!.CopyFrom<int>(_selectedHost);
        _counts!.CopyFrom<int>(_countsHost);
        PagedAttention.Forward(_query, cache.View(sequence, layer), _output!,
            new PagedAttentionOptions(Scale: 1f, SelectedKeys: _selected, SelectedCounts: _counts, Probabilities: _probabilities));
        _probabilities!.CopyTo<float>(_probabilitiesHost);
        for (int h = 0; h < heads; h++) _probabilitiesHost.AsSpan(h * width + lo, n).CopyTo(probabilities.Slice(h * n, n));
    }

    public void Dispose()
    {
        _query?.Dispose();
        _output?.Dispose();
        _selected?.Dispose();
        _counts?.Dispose();
        _probabilities?.Dispose();
        _query = null;
    }
}
