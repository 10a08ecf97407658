// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// H2O (Zhang et al. 2023, "Heavy-Hitter Oracle"): every query's attention probabilities are summed per token
/// (over queries and the kv head's query heads; exported by the attention kernel); a head over budget keeps the
/// <see cref="Recent"/> newest tokens plus the heaviest hitters among the rest.
/// </summary>
public sealed class H2OKvPolicy : KvPolicy
{
    private int[] _keep = [];
    private float[] _scores = [];

    /// <summary>Creates the policy; <paramref name="recent"/> defaults to half the budget (the paper's split).</summary>
    public H2OKvPolicy(int budget, int recent = -1)
    {
        Recent = recent < 0 ? budget / 2 : recent;
        if (budget <= 0 || Recent > budget)
            throw new ArgumentOutOfRangeException(nameof(budget), $"H2O: budget {budget} must be positive and at least recent {Recent}.");
        Budget = budget;
    }

    /// <summary>Tokens kept per head.</summary>
    public int Budget { get; }
    /// <summary>Newest tokens always kept.</summary>
    public int Recent { get; }

    /// <inheritdoc />
    public override string Name => "h2o";

    /// <summary>The decision: recent window plus top accumulated scores; returns how many indices were written.</summary>
    public static int Decide(ReadOnlySpan<float> accumulated, int budget, int recent, Span<int> keep)
    {
        int count = accumulated.Length;
        if (count <= budget)
        {
            for (int i = 0; i < count; i++) keep[i] = i;
            return count;
        }
        int n = KvTopK.Select(accumulated, 0, count - recent, budget - recent, keep);
        for (int i = count - recent; i < count; i++) keep[n++] = i;
        return n;
    }

    /// <inheritdoc />
    public override void Begin(PagedKvCache cache, int heads)
    {
        _keep = new int[cache.Head(0, 0).MaxTokens];
        _scores = new float[cache.Head(0, 0).MaxTokens];
    }

    /// <inheritdoc />
    public override PagedAttentionOptions Options(PagedKvCache cache, int layer, ReadOnlySpan<float> q, int rows, int firstPosition, int promptLength) =>
        new(AccumulateScores: true);

    /// <inheritdoc />
    public override void AfterPrefill(PagedKvCache cache, int promptLength) => Evict(cache);

    /// <inheritdoc />
    public override void AfterDecodeStep(PagedKvCache cache) => Evict(cache);

    private void Evict(PagedKvCache cache)
    {
        for (int l = 0; l < cache.Layers; l++)
        for (int h = 0; h < cache.KvHeads; h++)
        {
            var head = cache.Head(l, h);
            if (head.Count <= Budget) continue;
            for (int i = 0; i < head.Count; i++) _scores[i] = head.Score(i);
            head.Keep(_keep.AsSpan(0, Decide(_scores.AsSpan(0, head.Count), Budget, Recent, _keep)));
        }
    }
}
