// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// RazorAttention (Tang et al. 2024; methods.md 3.14): retrieval heads (found offline, see
/// <see cref="RetrievalHeadProbe"/>) keep the full cache; every other kv head keeps the first <see cref="Sinks"/>
/// tokens and the last L = max(<see cref="BufferFloor"/>, N / <see cref="Ratio"/>) tokens (N = tokens the head has
/// seen), and the dropped middle is summarised by one compensation token: the mean dropped key and value with
/// logit bias log(n_dropped), which the cache keeps and the attention op reads. Needs no attention scores.
/// </summary>
public sealed class RazorAttentionKvPolicy : KvPolicy
{
    private readonly bool[,] _retrieval;

    /// <summary>Creates the policy for <paramref name="retrievalHeads"/> [layers, kvHeads] (true: keep the full cache).</summary>
    public RazorAttentionKvPolicy(bool[,] retrievalHeads, float ratio, int bufferFloor = 16, int sinks = 4)
    {
        ArgumentNullException.ThrowIfNull(retrievalHeads);
        if (!(ratio >= 1f)) throw new ArgumentOutOfRangeException(nameof(ratio), $"RazorAttention: compression ratio {ratio} must be >= 1.");
        if (bufferFloor < 1) throw new ArgumentOutOfRangeException(nameof(bufferFloor), $"RazorAttention: buffer floor {bufferFloor} must be at least 1.");
        if (sinks < 0) throw new ArgumentOutOfRangeException(nameof(sinks), $"RazorAttention: sinks {sinks} must be >= 0.");
        _retrieval = retrievalHeads;
        Ratio = ratio;
        BufferFloor = bufferFloor;
        Sinks = sinks;
    }

    /// <summary>Compression ratio C of non-retrieval heads.</summary>
    public float Ratio { get; }
    /// <summary>Smallest recent buffer S0.</summary>
    public int BufferFloor { get; }
    /// <summary>Leading tokens always kept (N0).</summary>
    public int Sinks { get; }

    /// <inheritdoc />
    public override string Name => "razor";

    /// <summary>
    /// The decision for a non-retrieval head holding <paramref name="count"/> tokens after having seen
    /// <paramref name="seen"/>: the kept indices (sinks, then the recent buffer); the rest are compensated.
    /// </summary>
    public static int Decide(int count, int seen, float ratio, int bufferFloor, int sinks, Span<int> keep)
    {
        int buffer = Math.Max(bufferFloor, (int)(seen / ratio));
        if (count <= sinks + buffer)
        {
            for (int i = 0; i < count; i++) keep[i] = i;
            return count;
        }
        int n = 0;
        for (int i = 0; i < sinks; i++) keep[n++] = i;
        for (int i = count - buffer; i < count; i++) keep[n++] = i;
        return n;
    }

    /// <inheritdoc />
    public override void Begin(KvSequenceView cache, int heads)
    {
        if (_retrieval.GetLength(0) != cache.Layers || _retrieval.GetLength(1) != cache.KvHeads)
            throw new ArgumentException($"RazorAttention: retrieval-head map is [{_retrieval.GetLength(0)}, {_retrieval.GetLength(1)}] " +
                                        $"but the cache has [{cache.Layers}, {cache.KvHeads}] (layers, kv heads).");
    }

    /// <inheritdoc />
    public override void AfterPrefill(KvSequenceView cache, int promptLength, KvDecisions decisions) => Compress(cache, decisions);

    /// <inheritdoc />
    public override void AfterDecodeStep(KvSequenceView cache, KvDecisions decisions) => Compress(cache, decisions);

    private void Compress(KvSequenceView cache, KvDecisions decisions)
    {
        for (int l = 0; l < cache.Layers; l++)
        for (int h = 0; h < cache.KvHeads; h++)
        {
            if (_retrieval[l, h]) continue;
            var head = cache.Head(l, h);
            int n = Decide(head.Count, head.Count + head.CompensationCount, Ratio, BufferFloor, Sinks, decisions.KeepBuffer(l, h));
            if (n == head.Count) continue;
            decisions.Keep(l, h, n);
            decisions.Compensate(l, h);
        }
    }
}
