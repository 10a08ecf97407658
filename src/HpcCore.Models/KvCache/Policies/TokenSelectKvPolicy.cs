// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

using System.Numerics.Tensors;
using HpcCore.Ops;

/// <summary>
/// TokenSelect (Wu et al. 2024; methods.md 3.12): at each decode step and layer, per-head dot products q_h . k_j
/// (no 1/sqrt(d), as the released code) over the candidate tokens, softmax per head, summed over heads ("soft
/// voting"); attention then reads only the first <see cref="Sinks"/> tokens, the top <see cref="Budget"/> voted
/// candidates and the last <see cref="Local"/> tokens. The Selection Cache reuses a layer's last choice while the
/// query's cosine similarity to the query that made it stays at or above <see cref="ReuseCosine"/>. Nothing is
/// evicted (the cache stays full); attention work shrinks. Prefill chunks attend in full.
/// </summary>
public sealed class TokenSelectKvPolicy(int budget, int sinks = 4, int local = 32, float reuseCosine = 0.9f) : KvPolicy
{
    private KvSelection _selection = null!;
    private float[] _scores = [];
    private float[] _row = [];
    private int[] _picked = [];
    private float[][] _cachedQuery = [];
    private int[][] _cachedPick = [];
    private int[] _cachedCount = [];
    private int _heads;

    /// <summary>Voted candidates attended per step.</summary>
    public int Budget { get; } = budget > 0 ? budget : throw new ArgumentOutOfRangeException(nameof(budget), $"TokenSelect: budget {budget} must be positive.");
    /// <summary>Leading tokens always attended (n_init).</summary>
    public int Sinks { get; } = sinks;
    /// <summary>Newest tokens always attended (n_local).</summary>
    public int Local { get; } = local;
    /// <summary>Selection Cache threshold on cos(q_t, q_cached).</summary>
    public float ReuseCosine { get; } = reuseCosine;
    /// <summary>Ignore the Selection Cache (re-vote every step); for measuring the voting cost.</summary>
    public bool ForceRescore { get; set; }
    /// <summary>Steps that re-voted / reused a cached selection (all layers).</summary>
    public (long Voted, long Reused) Stats { get; private set; }

    /// <inheritdoc />
    public override string Name => "tokenselect";

    /// <summary>The tokens the last selecting call chose for <paramref name="kvHead"/> (sinks, voted, local; ascending).</summary>
    public ReadOnlySpan<int> LastSelection(int kvHead) => _selection.Indices(kvHead);

    /// <summary>
    /// The voting rule: <paramref name="dots"/> [H, n] per-head q.k over the n candidates; writes the softmax-per-head
    /// sum into <paramref name="votes"/> [n] (dots are overwritten).
    /// </summary>
    public static void Vote(Span<float> dots, int heads, int n, Span<float> votes)
    {
        votes[..n].Clear();
        for (int h = 0; h < heads; h++)
        {
            var row = dots.Slice(h * n, n);
            Softmax.Row(row, row);
            TensorPrimitives.Add(votes[..n], row, votes[..n]);
        }
    }

    /// <inheritdoc />
    public override void Begin(PagedKvCache cache, int heads)
    {
        int max = cache.Head(0, 0).MaxTokens;
        _heads = heads;
        _selection = new KvSelection(cache.KvHeads, max);
        _scores = new float[max];
        _row = new float[heads * max];
        _picked = new int[max];
        _cachedQuery = new float[cache.Layers][];
        _cachedPick = new int[cache.Layers][];
        _cachedCount = new int[cache.Layers];
        for (int l = 0; l < cache.Layers; l++)
        {
            _cachedQuery[l] = new float[heads * cache.HeadDim];
            _cachedPick[l] = new int[Budget];
            _cachedCount[l] = -1;
        }
        Stats = default;
    }

    /// <inheritdoc />
    public override PagedAttentionOptions Options(PagedKvCache cache, int layer, ReadOnlySpan<float> q, int rows, int firstPosition, int promptLength)
    {
        var head0 = cache.Head(layer, 0);
        int count = head0.Count, lo = Math.Min(Sinks, count), hi = Math.Max(lo, count - Local);
        if (rows != 1 || hi - lo <= Budget) return default;
        var cachedQ = _cachedQuery[layer];
        if (ForceRescore || _cachedCount[layer] < 0 || TensorPrimitives.CosineSimilarity(q, cachedQ) < ReuseCosine)
        {
            int n = hi - lo, d = cache.HeadDim, group = _heads / cache.KvHeads;
            for (int h = 0; h < _heads; h++)
            {
                var kv = cache.Head(layer, h / group);
                var qh = q.Slice(h * d, d);
                var row = _row.AsSpan(h * n, n);
                for (int j = 0; j < n; j++) row[j] = TensorPrimitives.Dot(qh, kv.Key(lo + j));
            }
            Vote(_row, _heads, n, _scores);
            int picked = KvTopK.Select(_scores.AsSpan(0, n), 0, n, Budget, _cachedPick[layer]);
            for (int i = 0; i < picked; i++) _cachedPick[layer][i] += lo;
            _cachedCount[layer] = picked;
            q.CopyTo(cachedQ);
            Stats = (Stats.Voted + 1, Stats.Reused);
        }
        else
        {
            Stats = (Stats.Voted, Stats.Reused + 1);
        }
        for (int kvh = 0; kvh < cache.KvHeads; kvh++)
        {
            var buf = _selection.Buffer(kvh);
            int m = 0;
            for (int i = 0; i < lo; i++) buf[m++] = i;
            foreach (int i in _cachedPick[layer].AsSpan(0, _cachedCount[layer]))
                if (i < hi) buf[m++] = i;
            for (int i = hi; i < count; i++) buf[m++] = i;
            _selection.SetCount(kvh, m);
        }
        return new PagedAttentionOptions(Selection: _selection);
    }
}
