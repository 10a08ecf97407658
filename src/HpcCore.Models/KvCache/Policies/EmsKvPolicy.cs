// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

using System.Numerics.Tensors;

/// <summary>
/// EMS (evict-then-merge with a global-local score; methods.md 3.15, reconstructed). Per head, when over
/// <see cref="Budget"/>: global score G_j = accumulated attention / number of queries that saw j (removes the
/// causal bias toward early tokens), local score L_j = attention from the last <see cref="Window"/> prompt queries;
/// score = G/max(G) + L/max(L). Sinks and the newest <see cref="Recent"/> tokens stay; the top-scored middle tokens
/// stay as class centres; of the rest, the best-scored <see cref="MergeFraction"/> are merged into their most
/// similar centre (cosine of keys; score-weighted mean of keys and values) and the others are evicted. The paper's
/// head-adaptive evict/merge split and zero-class batching are not reproduced: every head uses the same fraction.
/// Statistics (accumulated, seen, local) are the policy's own, from the op's KeyTotals and WindowTotals exports.
/// </summary>
public sealed class EmsKvPolicy(int budget, int window = 32, int sinks = 4, int recent = 16, float mergeFraction = 0.5f) : KvPolicy
{
    private KvTokenStatistics _accumulated = null!;
    private KvTokenStatistics _seen = null!;
    private KvTokenStatistics _local = null!;
    private int[] _counts = [];
    private float[] _score = [];
    private int[] _rest = [];
    private float[] _restScore = [];
    private float[] _keys = [];

    /// <summary>Tokens kept per head.</summary>
    public int Budget { get; } = budget > sinks + recent ? budget : throw new ArgumentOutOfRangeException(nameof(budget), $"EMS: budget {budget} must exceed sinks + recent ({sinks + recent}).");
    /// <summary>Observation window for the local score.</summary>
    public int Window { get; } = window >= 1 ? window : throw new ArgumentOutOfRangeException(nameof(window), $"EMS: window {window} must be at least 1.");
    /// <summary>Leading tokens always kept.</summary>
    public int Sinks { get; } = sinks >= 0 ? sinks : throw new ArgumentOutOfRangeException(nameof(sinks), $"EMS: sinks {sinks} must be >= 0.");
    /// <summary>Newest tokens always kept.</summary>
    public int Recent { get; } = recent >= 0 ? recent : throw new ArgumentOutOfRangeException(nameof(recent), $"EMS: recent {recent} must be >= 0.");
    /// <summary>Share of the non-kept tokens merged rather than evicted.</summary>
    public float MergeFraction { get; } = mergeFraction is >= 0f and <= 1f ? mergeFraction
        : throw new ArgumentOutOfRangeException(nameof(mergeFraction), $"EMS: merge fraction {mergeFraction} must lie in [0, 1].");

    /// <inheritdoc />
    public override string Name => "ems";

    /// <summary>Global-local score of one head's tokens into <paramref name="score"/> [count].</summary>
    public static void Score(ReadOnlySpan<float> accumulated, ReadOnlySpan<float> seen, ReadOnlySpan<float> local, Span<float> score)
    {
        int n = accumulated.Length;
        for (int j = 0; j < n; j++) score[j] = accumulated[j] / Math.Max(1f, seen[j]);
        float gMax = TensorPrimitives.Max(score[..n]), lMax = TensorPrimitives.Max(local);
        for (int j = 0; j < n; j++)
            score[j] = (gMax > 0 ? score[j] / gMax : 0) + (lMax > 0 ? local[j] / lMax : 0);
    }

    /// <summary>The keep decision: sinks, recent tokens and the top-scored middle tokens (the class centres).</summary>
    public static int Decide(ReadOnlySpan<float> score, int budget, int sinks, int recent, Span<int> keep)
    {
        int count = score.Length, n = 0;
        for (int i = 0; i < sinks; i++) keep[n++] = i;
        n += KvTopK.Select(score, sinks, count - recent, budget - sinks - recent, keep[n..]);
        for (int i = count - recent; i < count; i++) keep[n++] = i;
        return n;
    }

    /// <inheritdoc />
    public override void Begin(KvSequenceView cache, int heads)
    {
        int max = cache.MaxTokensPerHead;
        _accumulated = new KvTokenStatistics(cache.Layers, cache.KvHeads, max);
        _seen = new KvTokenStatistics(cache.Layers, cache.KvHeads, max);
        _local = new KvTokenStatistics(cache.Layers, cache.KvHeads, max);
        _counts = new int[cache.KvHeads];
        _score = new float[max];
        _rest = new int[max];
        _restScore = new float[max];
        _keys = new float[max * cache.HeadDim];
    }

    /// <inheritdoc />
    public override KvRequest Request(KvSequenceView cache, in KvStep step, KvSelection selection) =>
        new(KeyTotals: true, WindowFromPosition: step.IsPrefill ? Math.Max(0, step.PromptLength - Window) : null);

    /// <inheritdoc />
    public override void Observe(KvSequenceView cache, in KvStep step, in KvExports exports)
    {
        int layer = step.Layer, rows = step.Rows;
        for (int h = 0; h < cache.KvHeads; h++) _counts[h] = cache.Count(layer, h);
        _accumulated.AddExport(layer, exports.KeyTotals, exports.Width, step.Heads, _counts);
        if (!exports.WindowTotals.IsEmpty) _local.AddExport(layer, exports.WindowTotals, exports.Width, step.Heads, _counts);
        // Row t of the chunk sees tokens below count - rows + t + 1: older tokens are seen by every row, the chunk's own by fewer.
        for (int h = 0; h < cache.KvHeads; h++)
        {
            var seen = _seen.Row(layer, h);
            int count = _counts[h], old = count - rows;
            for (int j = 0; j < count; j++) seen[j] += j <= old ? rows : rows - (j - old);
        }
    }

    /// <inheritdoc />
    public override void AfterPrefill(KvSequenceView cache, int promptLength, KvDecisions decisions) => Compress(cache, decisions, 0);

    /// <inheritdoc />
    public override void AfterDecodeStep(KvSequenceView cache, KvDecisions decisions) => Compress(cache, decisions, cache.PageTokens);

    private void Compress(KvSequenceView cache, KvDecisions decisions, int slack)
    {
        for (int l = 0; l < cache.Layers; l++)
        for (int h = 0; h < cache.KvHeads; h++)
        {
            int count = cache.Count(l, h);
            if (count <= Budget + slack) continue;
            Score(_accumulated.Row(l, h)[..count], _seen.Row(l, h)[..count], _local.Row(l, h)[..count], _score);
            var keep = decisions.KeepBuffer(l, h);
            int n = Decide(_score.AsSpan(0, count), Budget, Sinks, Recent, keep);
            MergeRest(cache, decisions, l, h, keep[..n], count);
            decisions.Keep(l, h, n);
            _accumulated.Compact(l, h, keep[..n], count);
            _seen.Compact(l, h, keep[..n], count);
            _local.Compact(l, h, keep[..n], count);
        }
    }

    private void MergeRest(KvSequenceView cache, KvDecisions decisions, int layer, int kvHead, ReadOnlySpan<int> keep, int count)
    {
        // Centres are the kept middle tokens; the rest, best first, are merged until the merge share is used up.
        int rest = 0;
        for (int j = 0, k = 0; j < count; j++)
        {
            if (k < keep.Length && keep[k] == j) { k++; continue; }
            _rest[rest++] = j;
        }
        int merges = (int)(rest * MergeFraction);
        if (merges == 0) return;
        cache.ReadHead(layer, kvHead, _keys, default);
        for (int r = 0; r < rest; r++) _restScore[r] = _score[_rest[r]];
        for (int done = 0; done < merges; done++)
        {
            int best = 0;
            for (int r = 1; r < rest; r++)
                if (_restScore[r] > _restScore[best]) best = r;
            int token = _rest[best];
            _restScore[best] = float.NegativeInfinity;
            int centre = MostSimilarCentre(cache.HeadDim, token, keep, count);
            if (centre < 0) continue;
            decisions.Merge(layer, kvHead, centre, token, _score[centre], _score[token]);
            MergeKey(cache.HeadDim, centre, token, _score[centre], _score[token]);
            _score[centre] += _score[token];
        }
    }

    // The host copy of the keys follows the merges as the cache will apply them (same weights, same order), so a
    // later token is compared with the centre as merged so far.
    private void MergeKey(int d, int centre, int token, float wc, float wt)
    {
        float total = wc + wt;
        if (!(total > 0)) { wc = wt = 1; total = 2; }
        var kc = _keys.AsSpan(centre * d, d);
        var kt = _keys.AsSpan(token * d, d);
        for (int i = 0; i < d; i++) kc[i] = (kc[i] * wc + kt[i] * wt) / total;
    }

    private int MostSimilarCentre(int d, int token, ReadOnlySpan<int> keep, int count)
    {
        int best = -1;
        float bestCos = float.NegativeInfinity;
        var k = _keys.AsSpan(token * d, d);
        foreach (int c in keep)
        {
            if (c < Sinks || c >= count - Recent) continue;
            float cos = TensorPrimitives.CosineSimilarity(k, _keys.AsSpan(c * d, d));
            if (cos > bestCos) { bestCos = cos; best = c; }
        }
        return best;
    }
}
