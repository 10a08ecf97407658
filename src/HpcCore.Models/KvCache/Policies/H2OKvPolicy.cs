// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// H2O (Zhang et al. 2023, "Heavy-Hitter Oracle"): every query's attention probabilities are summed per token
/// (over queries and the kv head's query heads; the op's KeyTotals export, kept in the policy's own statistics); a
/// head over budget keeps the <see cref="Recent"/> newest tokens plus the heaviest hitters among the rest.
/// </summary>
public sealed class H2OKvPolicy : KvPolicy
{
    private KvTokenStatistics _received = null!;
    private int[] _counts = [];

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
    public override void Begin(KvSequenceView cache, int heads)
    {
        _received = new KvTokenStatistics(cache.Layers, cache.KvHeads, cache.MaxTokensPerHead);
        _counts = new int[cache.KvHeads];
    }

    /// <inheritdoc />
    public override KvRequest Request(KvSequenceView cache, in KvStep step, KvSelection selection) => new(KeyTotals: true);

    /// <inheritdoc />
    public override void Observe(KvSequenceView cache, in KvStep step, in KvExports exports)
    {
        for (int h = 0; h < cache.KvHeads; h++) _counts[h] = cache.Count(step.Layer, h);
        _received.AddExport(step.Layer, exports.KeyTotals, exports.Width, step.Heads, _counts);
    }

    /// <inheritdoc />
    public override void AfterPrefill(KvSequenceView cache, int promptLength, KvDecisions decisions) => Evict(cache, decisions);

    /// <inheritdoc />
    public override void AfterDecodeStep(KvSequenceView cache, KvDecisions decisions) => Evict(cache, decisions);

    private void Evict(KvSequenceView cache, KvDecisions decisions)
    {
        for (int l = 0; l < cache.Layers; l++)
        for (int h = 0; h < cache.KvHeads; h++)
        {
            int count = cache.Count(l, h);
            if (count <= Budget) continue;
            var keep = decisions.KeepBuffer(l, h);
            int n = Decide(_received.Row(l, h)[..count], Budget, Recent, keep);
            decisions.Keep(l, h, n);
            _received.Compact(l, h, keep[..n], count);
        }
    }
}
