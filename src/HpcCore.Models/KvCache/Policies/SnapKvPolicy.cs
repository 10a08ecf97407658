// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// SnapKV (Li et al. 2024): after prefill, the last <see cref="Window"/> prompt queries vote (their attention
/// probabilities summed per token, exported by the kernel during prefill); votes are max-pooled over
/// <see cref="Kernel"/> neighbours (the paper's clustering step) and each head keeps the top prefix tokens plus the
/// window itself, <see cref="Budget"/> in all. Decode then appends without eviction.
/// </summary>
public sealed class SnapKvPolicy(int budget, int window = 32, int kernel = 5) : KvPolicy
{
    private int[] _keep = [];
    private float[] _votes = [];
    private float[] _pooled = [];

    /// <summary>Tokens kept per head after prefill.</summary>
    public int Budget { get; } = budget > 0 ? budget : throw new ArgumentOutOfRangeException(nameof(budget), $"SnapKV: budget {budget} must be positive.");
    /// <summary>Observation window (last prompt queries).</summary>
    public int Window { get; } = window;
    /// <summary>Max-pool width (odd).</summary>
    public int Kernel { get; } = kernel;

    /// <inheritdoc />
    public override string Name => "snapkv";

    /// <summary>
    /// The decision for one head: <paramref name="votes"/> [count] from the window queries; returns how many indices
    /// were written to <paramref name="keep"/>. <paramref name="pooled"/> is scratch of at least count floats.
    /// </summary>
    public static int Decide(ReadOnlySpan<float> votes, int budget, int window, int kernel, Span<float> pooled, Span<int> keep)
    {
        int count = votes.Length;
        if (count <= budget)
        {
            for (int i = 0; i < count; i++) keep[i] = i;
            return count;
        }
        int w = Math.Min(window, budget), prefix = count - w, half = kernel / 2;
        for (int i = 0; i < prefix; i++)
        {
            float m = float.NegativeInfinity;
            for (int j = Math.Max(0, i - half); j <= Math.Min(prefix - 1, i + half); j++) m = Math.Max(m, votes[j]);
            pooled[i] = m;
        }
        int n = KvTopK.Select(pooled[..prefix], 0, prefix, budget - w, keep);
        for (int i = prefix; i < count; i++) keep[n++] = i;
        return n;
    }

    /// <inheritdoc />
    public override void Begin(PagedKvCache cache, int heads)
    {
        int max = cache.Head(0, 0).MaxTokens;
        _keep = new int[max];
        _votes = new float[max];
        _pooled = new float[max];
    }

    /// <inheritdoc />
    public override PagedAttentionOptions Options(PagedKvCache cache, int layer, ReadOnlySpan<float> q, int rows, int firstPosition, int promptLength) =>
        rows > 1 || firstPosition < promptLength ? new(WindowFromPosition: Math.Max(0, promptLength - Window)) : default;

    /// <inheritdoc />
    public override void AfterPrefill(PagedKvCache cache, int promptLength)
    {
        for (int l = 0; l < cache.Layers; l++)
        for (int h = 0; h < cache.KvHeads; h++)
        {
            var head = cache.Head(l, h);
            if (head.Count <= Budget) continue;
            for (int i = 0; i < head.Count; i++) _votes[i] = head.WindowScore(i);
            head.Keep(_keep.AsSpan(0, Decide(_votes.AsSpan(0, head.Count), Budget, Window, Kernel, _pooled, _keep)));
        }
    }
}
