// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// StreamingLLM (Xiao et al. 2024, "Efficient Streaming Language Models with Attention Sinks"): keep the first
/// <see cref="Sinks"/> tokens (attention sinks) and the most recent ones, <see cref="Budget"/> in all, per head.
/// Positions stay the tokens' original ones (keys are cached rotated), as in kvpress rather than the paper's
/// in-cache renumbering.
/// </summary>
public sealed class StreamingLlmKvPolicy(int budget, int sinks = 4) : KvPolicy
{
    private int[] _keep = [];

    /// <summary>Tokens kept per head.</summary>
    public int Budget { get; } = budget > sinks ? budget : throw new ArgumentOutOfRangeException(nameof(budget), $"StreamingLLM: budget {budget} must exceed sinks {sinks}.");
    /// <summary>Leading tokens always kept.</summary>
    public int Sinks { get; } = sinks;

    /// <inheritdoc />
    public override string Name => "streaming";

    /// <summary>The decision: indices kept out of <paramref name="count"/> tokens; returns how many were written.</summary>
    public static int Decide(int count, int sinks, int budget, Span<int> keep)
    {
        if (count <= budget)
        {
            for (int i = 0; i < count; i++) keep[i] = i;
            return count;
        }
        int n = 0;
        for (int i = 0; i < sinks; i++) keep[n++] = i;
        for (int i = count - (budget - sinks); i < count; i++) keep[n++] = i;
        return n;
    }

    /// <inheritdoc />
    public override void Begin(PagedKvCache cache, int heads) => _keep = new int[cache.Head(0, 0).MaxTokens];

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
            head.Keep(_keep.AsSpan(0, Decide(head.Count, Sinks, Budget, _keep)));
        }
    }
}
