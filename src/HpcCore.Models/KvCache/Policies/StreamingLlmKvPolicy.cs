// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// StreamingLLM (Xiao et al. 2024, "Efficient Streaming Language Models with Attention Sinks"): keep the first
/// <see cref="Sinks"/> tokens (attention sinks) and the most recent ones, <see cref="Budget"/> in all, per head.
/// Under <see cref="KvPositionMode.Renumbered"/> keys are cached unrotated and positions are assigned by index within
/// the cache (the paper's section 3.2), which is what lets it generate far past the trained context; under
/// <see cref="KvPositionMode.Original"/> (the default, as kvpress) survivors keep their original positions.
/// </summary>
public sealed class StreamingLlmKvPolicy(int budget, int sinks = 4) : KvPolicy
{
    /// <summary>Tokens kept per head.</summary>
    public int Budget { get; } = budget > sinks ? budget : throw new ArgumentOutOfRangeException(nameof(budget), $"StreamingLLM: budget {budget} must exceed sinks {sinks}.");
    /// <summary>Leading tokens always kept.</summary>
    public int Sinks { get; } = sinks >= 0 ? sinks : throw new ArgumentOutOfRangeException(nameof(sinks), $"StreamingLLM: sinks {sinks} must be >= 0.");

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
    public override void AfterPrefill(KvSequenceView cache, int promptLength, KvDecisions decisions) => Evict(cache, decisions);

    /// <inheritdoc />
    public override void AfterDecodeStep(KvSequenceView cache, KvDecisions decisions) => Evict(cache, decisions);

    private void Evict(KvSequenceView cache, KvDecisions decisions)
    {
        for (int l = 0; l < cache.Layers; l++)
        for (int h = 0; h < cache.KvHeads; h++)
        {
            int count = cache.Count(l, h);
            if (count > Budget) decisions.Keep(l, h, Decide(count, Sinks, Budget, decisions.KeepBuffer(l, h)));
        }
    }
}
