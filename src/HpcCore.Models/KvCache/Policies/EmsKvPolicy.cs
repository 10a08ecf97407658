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
/// </summary>
public sealed class EmsKvPolicy(int budget, int window = 32, int sinks = 4, int recent = 16, float mergeFraction = 0.5f) : KvPolicy
{
    private int[] _keep = [];
    private float[] _score = [];
    private int[] _rest = [];
    private float[] _restScore = [];
    private float[] _acc = [];
    private float[] _local = [];
    private int[] _seen = [];

    /// <summary>Tokens kept per head.</summary>
    public int Budget { get; } = budget > sinks + recent ? budget : throw new ArgumentOutOfRangeException(nameof(budget), $"EMS: budget {budget} must exceed sinks + recent ({sinks + recent}).");
    /// <summary>Observation window for the local score.</summary>
    public int Window { get; } = window;
    /// <summary>Leading tokens always kept.</summary>
    public int Sinks { get; } = sinks;
    /// <summary>Newest tokens always kept.</summary>
    public int Recent { get; } = recent;
    /// <summary>Share of the non-kept tokens merged rather than evicted.</summary>
    public float MergeFraction { get; } = mergeFraction;

    /// <inheritdoc />
    public override string Name => "ems";

    /// <summary>Global-local score of one head's tokens into <paramref name="score"/> [count].</summary>
    public static void Score(ReadOnlySpan<float> accumulated, ReadOnlySpan<int> seen, ReadOnlySpan<float> local, Span<float> score)
    {
        int n = accumulated.Length;
        for (int j = 0; j < n; j++) score[j] = accumulated[j] / Math.Max(1, seen[j]);
        float gMax = TensorPrimitives.Max(score[..n]), lMax = TensorPrimitives.Max(local);
        for (int j = 0; j < n; j++)
            score[j] = (gMax > 0 ? score[j] / gMax : 0) + (lMax > 0 ? local[j] / lMax : 0);
    }

    /// <inheritdoc />
    public override void Begin(PagedKvCache cache, int heads)
    {
        int max = cache.Head(0, 0).MaxTokens;
        _keep = new int[max];
        _score = new float[max];
        _rest = new int[max];
        _restScore = new float[max];
        _acc = new float[max];
        _local = new float[max];
        _seen = new int[max];
    }

    /// <inheritdoc />
    public override PagedAttentionOptions Options(PagedKvCache cache, int layer, ReadOnlySpan<float> q, int rows, int firstPosition, int promptLength) =>
        new(AccumulateScores: true, WindowFromPosition: rows > 1 || firstPosition < promptLength ? Math.Max(0, promptLength - Window) : null);

    /// <inheritdoc />
    public override void AfterPrefill(PagedKvCache cache, int promptLength) => Compress(cache, 0);

    /// <inheritdoc />
    public override void AfterDecodeStep(PagedKvCache cache) => Compress(cache, cache.Pool.PageTokens);

    private void Compress(PagedKvCache cache, int slack)
    {
        for (int l = 0; l < cache.Layers; l++)
        for (int h = 0; h < cache.KvHeads; h++)
        {
            var head = cache.Head(l, h);
            int count = head.Count;
            if (count <= Budget + slack) continue;
            for (int j = 0; j < count; j++)
            {
                _acc[j] = head.Score(j);
                _seen[j] = head.Seen(j);
                _local[j] = head.WindowScore(j);
            }
            Score(_acc.AsSpan(0, count), _seen.AsSpan(0, count), _local.AsSpan(0, count), _score);
            int n = Decide(_score.AsSpan(0, count), Budget, Sinks, Recent, _keep);
            MergeRest(head, _keep.AsSpan(0, n), count);
            head.Keep(_keep.AsSpan(0, n));
        }
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

    private void MergeRest(KvHeadCache head, ReadOnlySpan<int> keep, int count)
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
        for (int r = 0; r < rest; r++) _restScore[r] = _score[_rest[r]];
        int done = 0;
        while (done < merges)
        {
            int best = 0;
            for (int r = 1; r < rest; r++)
                if (_restScore[r] > _restScore[best]) best = r;
            int token = _rest[best];
            _restScore[best] = float.NegativeInfinity;
            int centre = MostSimilarCentre(head, token, keep);
            if (centre >= 0)
            {
                Merge(head, centre, token, _score[centre], _score[token]);
                _score[centre] += _score[token];
            }
            done++;
        }
    }

    private int MostSimilarCentre(KvHeadCache head, int token, ReadOnlySpan<int> keep)
    {
        int best = -1;
        float bestCos = float.NegativeInfinity;
        var k = head.Key(token);
        foreach (int c in keep)
        {
            if (c < Sinks || c >= head.Count - Recent) continue;
            float cos = TensorPrimitives.CosineSimilarity(k, head.Key(c));
            if (cos > bestCos) { bestCos = cos; best = c; }
        }
        return best;
    }

    private static void Merge(KvHeadCache head, int centre, int token, float wc, float wt)
    {
        float total = wc + wt;
        if (!(total > 0)) { wc = wt = 1; total = 2; }
        var kc = head.Key(centre);
        var vc = head.Value(centre);
        var kt = head.Key(token);
        var vt = head.Value(token);
        for (int d = 0; d < kc.Length; d++)
        {
            kc[d] = (kc[d] * wc + kt[d] * wt) / total;
            vc[d] = (vc[d] * wc + vt[d] * wt) / total;
        }
    }
}
