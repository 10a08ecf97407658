// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>Builds a <see cref="KvPolicy"/> from its command-line name and a per-head token budget.</summary>
public static class KvPolicies
{
    /// <summary>The names <see cref="Create"/> accepts.</summary>
    public const string Names = "full, streaming, h2o, snapkv, tokenselect, recycled, razor, ems";

    /// <summary>
    /// The policy called <paramref name="name"/> keeping (or reading) about <paramref name="budget"/> tokens per head.
    /// RazorAttention needs <paramref name="retrievalHeads"/> (from <see cref="RetrievalHeadProbe"/>) and uses
    /// <paramref name="contextHint"/> / budget as its compression ratio.
    /// </summary>
    public static KvPolicy Create(string name, int budget, bool[,]? retrievalHeads = null, int contextHint = 0)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(budget);
        int sinks = Math.Min(4, budget / 4);
        return name.ToLowerInvariant() switch
        {
            "full" => new FullKvPolicy(),
            "streaming" => new StreamingLlmKvPolicy(budget, sinks),
            "h2o" => new H2OKvPolicy(budget),
            "snapkv" => new SnapKvPolicy(budget, window: Math.Max(1, Math.Min(32, budget / 2))),
            "tokenselect" => new TokenSelectKvPolicy(budget, sinks, local: Math.Min(32, budget / 4)),
            "recycled" => new RecycledKvPolicy(budget),
            "razor" => new RazorAttentionKvPolicy(
                retrievalHeads ?? throw new ArgumentException("KvPolicies.Create: razor needs the retrieval-head map.", nameof(retrievalHeads)),
                ratio: Math.Max(1f, contextHint > 0 ? (float)contextHint / budget : 4f), bufferFloor: Math.Max(1, budget / 4), sinks),
            "ems" => new EmsKvPolicy(budget, window: Math.Max(1, Math.Min(32, budget / 2)), sinks, recent: Math.Min(16, budget / 4)),
            _ => throw new ArgumentException($"KvPolicies.Create: unknown policy '{name}'; expected one of {Names}.", nameof(name)),
        };
    }
}
